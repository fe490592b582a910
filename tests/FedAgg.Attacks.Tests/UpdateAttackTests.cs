namespace FedAgg.Attacks.Tests;

public sealed class UpdateAttackTests
{
    private const int Dimension = 270_000;

    public static TheoryData<int> Lengths() => [0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 65, 255, 257, 1000];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Produce_SignFlipDefault_IsNegatedOwnUpdateBitForBit(int d)
    {
        var own = Synthetic.Vector(d, d + 1);
        var submitted = UpdateAttacks.Create(AttackKind.SignFlip).Produce(Synthetic.Context(own));
        Synthetic.AssertBitsEqual(own.Select(x => -x).ToArray(), submitted);
    }

    [Theory]
    [InlineData(2.5)]
    [InlineData(0.3)]
    public void Produce_SignFlipScaled_IsMinusScaleTimesOwn(double scale)
    {
        var own = Synthetic.Vector(Dimension, 5);
        var submitted = UpdateAttacks.Create(AttackKind.SignFlip, new AttackOptions { SignFlipScale = scale }).Produce(Synthetic.Context(own));
        // One float32 rounding per element: exactly what scalar code gives.
        Synthetic.AssertBitsEqual(own.Select(x => x * (float)-scale).ToArray(), submitted);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.05)]
    public void Produce_Gaussian_HasMeanZeroAndStdSigmaWithinStatisticalBounds(double sigma)
    {
        var own = Synthetic.Vector(Dimension, 9);
        var submitted = UpdateAttacks.Create(AttackKind.Gaussian, new AttackOptions { GaussianSigma = sigma }).Produce(Synthetic.Context(own, seed: 42));
        var mean = submitted.Average(x => (double)x);
        var std = Math.Sqrt(submitted.Sum(x => (x - mean) * (x - mean)) / (Dimension - 1));
        // Standard errors: σ/√N for the mean, σ/√(2N) for the standard deviation; 6 of them is a 1-in-10⁸ miss.
        Assert.InRange(mean, -6 * sigma / Math.Sqrt(Dimension), 6 * sigma / Math.Sqrt(Dimension));
        Assert.InRange(std, sigma * (1 - (6 / Math.Sqrt(2.0 * Dimension))), sigma * (1 + (6 / Math.Sqrt(2.0 * Dimension))));
        // Independent of the honest update, and roughly normal: about 68.27 % within one σ.
        var withinOne = submitted.Count(x => Math.Abs(x) <= sigma) / (double)Dimension;
        Assert.InRange(withinOne, 0.6827 - 0.005, 0.6827 + 0.005);
    }

    [Fact]
    public void Produce_GaussianSameSeed_BitIdenticalAndOtherSeedDiffers()
    {
        var attack = UpdateAttacks.Create(AttackKind.Gaussian);
        var own = Synthetic.Vector(4096, 1);
        var a = attack.Produce(Synthetic.Context(own, seed: 7));
        var b = attack.Produce(Synthetic.Context(own, seed: 7));
        var c = attack.Produce(Synthetic.Context(own, seed: 8));
        Synthetic.AssertBitsEqual(a, b);
        Assert.True(a.Zip(c).Count(p => p.First == p.Second) < 10, "a different seed should give different noise");
    }

    [Fact]
    public void Produce_FreeRiderDefault_IsZeroUpdateWithoutTraining()
    {
        var baseModel = Synthetic.Vector(1000, 3);
        var context = new AttackContext { ParticipantId = "p", Round = 1, Seed = 1, BaseModel = baseModel };
        var attack = UpdateAttacks.Create(AttackKind.FreeRider);
        Assert.Equal(AttackInputs.None, attack.Inputs);
        Assert.True(attack.CanProduce(context, out _));
        var submitted = attack.Produce(context);
        Assert.Equal(1000, submitted.Length);
        Assert.All(submitted, x => Assert.Equal(0, BitConverter.SingleToInt32Bits(x)));
    }

    [Fact]
    public void Produce_FreeRiderWithNoise_IsSeededNoiseOfThatSigma()
    {
        var context = new AttackContext { ParticipantId = "p", Round = 1, Seed = 11, BaseModel = new float[Dimension] };
        var noisy = UpdateAttacks.Create(AttackKind.FreeRider, new AttackOptions { FreeRiderSigma = 0.01 }).Produce(context);
        var gaussian = UpdateAttacks.Create(AttackKind.Gaussian, new AttackOptions { GaussianSigma = 0.01 }).Produce(context);
        Synthetic.AssertBitsEqual(gaussian, noisy);
        var std = Math.Sqrt(noisy.Average(x => (double)x * x));
        Assert.InRange(std, 0.01 * 0.98, 0.01 * 1.02);
    }

    [Theory]
    [InlineData(10, 2, 8)]
    [InlineData(50, 12, 38)]
    [InlineData(7, 2, 5)]
    public void Produce_Alie_IsMeanPlusZMaxTimesSampleStdPerCoordinate(int n, int f, int honestCount)
    {
        var honest = Synthetic.Updates(honestCount, 5000, n * 100 + f);
        var context = OmniscientContext(honest, n, f);
        var submitted = UpdateAttacks.Create(AttackKind.Alie).Produce(context);
        var expected = NaiveAlie(honest, Alie.ZMax(n, f), sampleStd: true);
        AssertClose(expected, submitted);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(8193)]
    public void Produce_OmniscientAcrossBlockBoundaries_MatchScalarReference(int d)
    {
        var honest = Synthetic.Updates(5, d, d + 3);
        var context = OmniscientContext(honest, n: 8, f: 2);
        AssertClose(NaiveAlie(honest, Alie.ZMax(8, 2), sampleStd: true), UpdateAttacks.Create(AttackKind.Alie).Produce(context));
        var ipm = UpdateAttacks.Create(AttackKind.Ipm).Produce(context);
        AssertClose(NaiveAlie(honest, 0, sampleStd: true).Select(m => -0.1 * m).ToArray(), ipm);
    }

    [Fact]
    public void Produce_AlieOverrides_UseGivenZSignAndPopulationStd()
    {
        var honest = Synthetic.Updates(6, Dimension, 77);
        var context = OmniscientContext(honest, n: 8, f: 2);
        var options = new AttackOptions { AlieZ = 1.5, AlieSign = -1, AlieSampleStd = false };
        var submitted = UpdateAttacks.Create(AttackKind.Alie, options).Produce(context);
        AssertClose(NaiveAlie(honest, -1.5, sampleStd: false), submitted);
    }

    [Fact]
    public void Produce_AlieTooFewHonestOrBadN_FailsNamingTheProblem()
    {
        var attack = UpdateAttacks.Create(AttackKind.Alie);
        var one = OmniscientContext(Synthetic.Updates(1, 10, 1), n: 10, f: 2);
        Assert.False(attack.CanProduce(one, out var reason));
        Assert.Contains("at least 2 honest updates", reason, StringComparison.Ordinal);
        Assert.Contains("at least 2 honest updates", Assert.Throws<InvalidOperationException>(() => attack.Produce(one)).Message, StringComparison.Ordinal);

        var tooMany = OmniscientContext(Synthetic.Updates(4, 10, 1), n: 10, f: 6);
        Assert.False(attack.CanProduce(tooMany, out reason));
        Assert.Contains("z_max", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(4.0)]
    public void Produce_Ipm_IsMinusEpsilonTimesHonestMean(double epsilon)
    {
        var honest = Synthetic.Updates(9, Dimension, 5);
        var context = OmniscientContext(honest, n: 12, f: 3);
        var submitted = UpdateAttacks.Create(AttackKind.Ipm, new AttackOptions { IpmEpsilon = epsilon }).Produce(context);
        var expected = new double[Dimension];
        for (var c = 0; c < Dimension; c++)
        {
            expected[c] = -epsilon * honest.Average(h => (double)h[c]);
        }

        AssertClose(expected, submitted);
        Assert.Equal(0.1, new AttackOptions().IpmEpsilon);
    }

    [Fact]
    public void Produce_IpmWithoutHonestUpdates_Throws()
    {
        var context = Synthetic.Context(Synthetic.Vector(10, 1));
        var e = Assert.Throws<InvalidOperationException>(() => UpdateAttacks.Create(AttackKind.Ipm).Produce(context));
        Assert.Contains("honest updates", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Produce_Replay_ReturnsEarlierSubmissionBitForBit()
    {
        var history = Synthetic.Updates(3, 1000, 21);
        history[2][5] = BitConverter.Int32BitsToSingle(0x7fc0_1234); // a NaN with payload survives the copy
        history[2][6] = -0f;
        var context = new AttackContext
        {
            ParticipantId = "byz-1", Round = 4, Seed = 1, HonestUpdate = Synthetic.Vector(1000, 22),
            OwnEarlierUpdates = Synthetic.AsMemory(history),
        };
        Synthetic.AssertBitsEqual(history[2], UpdateAttacks.Create(AttackKind.Replay).Produce(context));
        Synthetic.AssertBitsEqual(history[0], UpdateAttacks.Create(AttackKind.Replay, new AttackOptions { ReplayAge = 3 }).Produce(context));
        Assert.Equal(AttackInputs.OwnHistory, UpdateAttacks.Create(AttackKind.Replay).Inputs);
    }

    [Fact]
    public void Produce_ReplayWithoutHistory_FailsClearly()
    {
        var attack = UpdateAttacks.Create(AttackKind.Replay);
        var context = new AttackContext { ParticipantId = "byz-1", Round = 1, Seed = 1, HonestUpdate = new float[4] };
        Assert.False(attack.CanProduce(context, out var reason));
        var e = Assert.Throws<InvalidOperationException>(() => attack.Produce(context));
        Assert.Equal(reason, e.Message);
        Assert.Contains("no earlier submitted update of participant byz-1", e.Message, StringComparison.Ordinal);

        var shallow = new AttackContext { ParticipantId = "byz-1", Round = 2, Seed = 1, HonestUpdate = new float[4], OwnEarlierUpdates = [new float[4]] };
        var deep = UpdateAttacks.Create(AttackKind.Replay, new AttackOptions { ReplayAge = 2 });
        Assert.Contains("only 1 earlier", Assert.Throws<InvalidOperationException>(() => deep.Produce(shallow)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Produce_Copycat_ReturnsAnotherPayloadBitForBitNeverItsOwn()
    {
        var payloads = Synthetic.Updates(4, 512, 31);
        string[] ids = ["p0", "byz-0", "p2", "p3"];
        var others = ids.Select((id, i) => new ParticipantUpdate(id, payloads[i])).ToArray();
        var attack = UpdateAttacks.Create(AttackKind.Copycat);
        var chosen = new int[4];
        for (ulong seed = 0; seed < 300; seed++)
        {
            var context = new AttackContext
            {
                ParticipantId = "byz-0", Round = 2, Seed = seed, HonestUpdate = payloads[1], OtherPayloads = others,
            };
            var submitted = attack.Produce(context);
            var match = Array.FindIndex(payloads, p => p.AsSpan().SequenceEqual(submitted));
            Assert.True(match >= 0, $"seed {seed}: not a copy of any payload");
            Synthetic.AssertBitsEqual(payloads[match], submitted);
            chosen[match]++;
        }

        Assert.Equal(0, chosen[1]);
        Assert.All([chosen[0], chosen[2], chosen[3]], c => Assert.InRange(c, 60, 140));
    }

    [Fact]
    public void Produce_CopycatWithOnlyItsOwnPayload_Throws()
    {
        var own = Synthetic.Vector(8, 1);
        var context = new AttackContext
        {
            ParticipantId = "byz-0", Round = 2, Seed = 1, HonestUpdate = own, OtherPayloads = [new ParticipantUpdate("byz-0", own)],
        };
        var attack = UpdateAttacks.Create(AttackKind.Copycat);
        Assert.False(attack.CanProduce(context, out var reason));
        Assert.Contains("no other participant", reason, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => attack.Produce(context));
    }

    [Theory]
    [InlineData(AttackKind.None, false)]
    [InlineData(AttackKind.LabelFlip, true)]
    public void Produce_PassThroughKinds_ReturnOwnUpdateBitForBit(AttackKind kind, bool flipsLabels)
    {
        var own = Synthetic.Vector(777, 4);
        var attack = UpdateAttacks.Create(kind);
        Assert.Equal(flipsLabels, attack.TrainsOnFlippedLabels);
        Synthetic.AssertBitsEqual(own, attack.Produce(Synthetic.Context(own)));
    }

    [Fact]
    public void Create_EveryKind_DeclaresItsInputs()
    {
        var expected = new Dictionary<AttackKind, AttackInputs>
        {
            [AttackKind.None] = AttackInputs.OwnUpdate,
            [AttackKind.SignFlip] = AttackInputs.OwnUpdate,
            [AttackKind.Gaussian] = AttackInputs.None,
            [AttackKind.Alie] = AttackInputs.HonestUpdates,
            [AttackKind.Ipm] = AttackInputs.HonestUpdates,
            [AttackKind.LabelFlip] = AttackInputs.OwnUpdate,
            [AttackKind.FreeRider] = AttackInputs.None,
            [AttackKind.Replay] = AttackInputs.OwnHistory,
            [AttackKind.Copycat] = AttackInputs.OtherPayloads,
        };
        foreach (var kind in Enum.GetValues<AttackKind>())
        {
            var attack = UpdateAttacks.Create(kind);
            Assert.Equal(kind, attack.Kind);
            Assert.Equal(expected[kind], attack.Inputs);
            Assert.Equal(kind == AttackKind.LabelFlip, attack.TrainsOnFlippedLabels);
        }
    }

    [Fact]
    public void Produce_MismatchedLengths_ThrowArgumentException()
    {
        var context = new AttackContext
        {
            ParticipantId = "p", Round = 1, Seed = 1, HonestUpdate = new float[10],
            HonestUpdates = [new float[10], new float[9]], TotalParticipants = 10, ByzantineCount = 2,
        };
        Assert.Throws<ArgumentException>(() => UpdateAttacks.Create(AttackKind.Alie).Produce(context));
        Assert.Throws<ArgumentException>(() => UpdateAttacks.Create(AttackKind.SignFlip).Produce(context, new float[11]));
        var mismatchedBase = new AttackContext { ParticipantId = "p", Round = 1, Seed = 1, HonestUpdate = new float[10], BaseModel = new float[12] };
        Assert.Throws<ArgumentException>(() => UpdateAttacks.Create(AttackKind.SignFlip).Produce(mismatchedBase));
    }

    [Fact]
    public void Produce_DestinationOverlapsHonestUpdate_Throws()
    {
        var shared = new float[20];
        var context = new AttackContext
        {
            ParticipantId = "p", Round = 1, Seed = 1, HonestUpdate = new float[10],
            HonestUpdates = [shared.AsMemory(0, 10), new float[10]], TotalParticipants = 10, ByzantineCount = 2,
        };
        Assert.Throws<ArgumentException>(() => UpdateAttacks.Create(AttackKind.Ipm).Produce(context, shared.AsSpan(5, 10)));
    }

    [Fact]
    public void Produce_OwnUpdateMissing_FailsNamingIt()
    {
        var context = new AttackContext { ParticipantId = "p", Round = 1, Seed = 1, BaseModel = new float[10] };
        var attack = UpdateAttacks.Create(AttackKind.SignFlip);
        Assert.False(attack.CanProduce(context, out var reason));
        Assert.Contains("HonestUpdate", reason, StringComparison.Ordinal);
    }

    public static TheoryData<string, AttackOptions> BadOptions() => new()
    {
        { nameof(AttackOptions.SignFlipScale), new AttackOptions { SignFlipScale = 0 } },
        { nameof(AttackOptions.SignFlipScale), new AttackOptions { SignFlipScale = double.PositiveInfinity } },
        { nameof(AttackOptions.GaussianSigma), new AttackOptions { GaussianSigma = -1 } },
        { nameof(AttackOptions.GaussianSigma), new AttackOptions { GaussianSigma = double.NaN } },
        { nameof(AttackOptions.AlieZ), new AttackOptions { AlieZ = double.NaN } },
        { nameof(AttackOptions.AlieSign), new AttackOptions { AlieSign = 0 } },
        { nameof(AttackOptions.IpmEpsilon), new AttackOptions { IpmEpsilon = 0 } },
        { nameof(AttackOptions.FreeRiderSigma), new AttackOptions { FreeRiderSigma = -0.1 } },
        { nameof(AttackOptions.ReplayAge), new AttackOptions { ReplayAge = 0 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Create_OptionOutOfRange_ThrowsNamingIt(string option, AttackOptions options)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => UpdateAttacks.Create(AttackKind.None, options));
        Assert.Equal(option, e.ParamName);
    }

    [Fact]
    public void DeriveSeed_ParticipantsAndRounds_GiveDistinctSeeds()
    {
        var seeds = new HashSet<ulong>();
        for (var p = 0; p < 50; p++)
        {
            for (ulong r = 1; r <= 50; r++)
            {
                Assert.True(seeds.Add(AttackContext.DeriveSeed(7, p, r)), $"collision at participant {p}, round {r}");
            }
        }

        Assert.Equal(AttackContext.DeriveSeed(7, 3, 9), AttackContext.DeriveSeed(7, 3, 9));
        Assert.NotEqual(AttackContext.DeriveSeed(7, 3, 9), AttackContext.DeriveSeed(8, 3, 9));
    }

    private static AttackContext OmniscientContext(float[][] honest, int n, int f) => new()
    {
        ParticipantId = "byz-0",
        Round = 5,
        Seed = 1,
        HonestUpdate = Synthetic.Vector(honest[0].Length, 999),
        HonestUpdates = Synthetic.AsMemory(honest),
        TotalParticipants = n,
        ByzantineCount = f,
    };

    /// <summary>μ + z·σ per coordinate in double, straight from the definition.</summary>
    private static double[] NaiveAlie(float[][] honest, double z, bool sampleStd)
    {
        var d = honest[0].Length;
        var k = honest.Length;
        var result = new double[d];
        for (var c = 0; c < d; c++)
        {
            double mean = 0;
            foreach (var h in honest)
            {
                mean += h[c];
            }

            mean /= k;
            double squares = 0;
            foreach (var h in honest)
            {
                squares += (h[c] - mean) * (h[c] - mean);
            }

            result[c] = mean + (z * Math.Sqrt(squares / (sampleStd ? k - 1 : k)));
        }

        return result;
    }

    /// <summary>float32 arithmetic against the double definition: within a few ulps of the vectors' scale (≈ 0.02).</summary>
    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var c = 0; c < expected.Length; c++)
        {
            if (Math.Abs(expected[c] - actual[c]) > 2e-8 + (1e-5 * Math.Abs(expected[c])))
            {
                Assert.Fail($"coordinate {c}: expected {expected[c]:R}, got {actual[c]:R}");
            }
        }
    }
}
