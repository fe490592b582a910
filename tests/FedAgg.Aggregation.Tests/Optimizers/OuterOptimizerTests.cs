namespace FedAgg.Aggregation.Tests.Optimizers;

public sealed class OuterOptimizerTests
{
    // Lengths 0..256, then around the kernel's 4096-coordinate blocks.
    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        foreach (var length in new[] { 0, 1, 2, 3, 7, 15, 16, 17, 63, 255, 256, 4095, 4096, 4097, 8192, (3 * 4096) + 5 })
        {
            data.Add(length);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void FedAvg_RandomInputs_MatchesReferenceBitForBit(int length)
    {
        var (theta, delta) = (Values(length, seed: 1), Values(length, seed: 2));
        var expected = (float[])theta.Clone();
        OptimizerReference.FedAvg(expected, delta, 0.37);

        new FedAvgOptimizer(0.37).Apply(Buffer(theta), Buffer(delta), []);

        AssertBits(expected, theta);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void FedAvgM_RandomInputsAndState_MatchesReferenceBitForBit(int length)
    {
        var (theta, delta, momentum) = (Values(length, 3), Values(length, 4), Values(length, 5));
        var (expectedTheta, expectedMomentum) = ((float[])theta.Clone(), (float[])momentum.Clone());
        OptimizerReference.FedAvgM(expectedTheta, delta, expectedMomentum, 0.8, 0.9);

        new FedAvgMOptimizer(0.8, 0.9).Apply(Buffer(theta), Buffer(delta), [Buffer(momentum)]);

        AssertBits(expectedTheta, theta);
        AssertBits(expectedMomentum, momentum);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void DiLoCo_RandomInputsAndState_MatchesReferenceBitForBit(int length)
    {
        var (theta, delta, momentum) = (Values(length, 6), Values(length, 7), Values(length, 8));
        var (expectedTheta, expectedMomentum) = ((float[])theta.Clone(), (float[])momentum.Clone());
        OptimizerReference.DiLoCo(expectedTheta, delta, expectedMomentum, 0.7, 0.9);

        new DiLoCoOptimizer().Apply(Buffer(theta), Buffer(delta), [Buffer(momentum)]);

        AssertBits(expectedTheta, theta);
        AssertBits(expectedMomentum, momentum);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void FedAdam_RandomInputsAndState_MatchesReferenceBitForBit(int length)
    {
        var (theta, delta, m) = (Values(length, 9), Values(length, 10), Values(length, 11));
        var v = Values(length, 12).Select(Math.Abs).ToArray();
        var (expectedTheta, expectedM, expectedV) = ((float[])theta.Clone(), (float[])m.Clone(), (float[])v.Clone());
        OptimizerReference.FedAdam(expectedTheta, delta, expectedM, expectedV, 0.01, 0.9, 0.99, 0.001);

        new FedAdamOptimizer().Apply(Buffer(theta), Buffer(delta), [Buffer(m), Buffer(v)]);

        AssertBits(expectedTheta, theta);
        AssertBits(expectedM, m);
        AssertBits(expectedV, v);
    }

    [Theory]
    [InlineData("fedavg")]
    [InlineData("fedavgm")]
    [InlineData("diloco")]
    [InlineData("fedadam")]
    public void Apply_ThreeRoundsWithPersistedState_MatchesReferenceBitForBit(string name)
    {
        const int Length = 4096 + 1000;
        var optimizer = Create(name);
        var theta = Values(Length, 20);
        var expectedTheta = (float[])theta.Clone();

        // The state lives in caller-owned arrays between rounds, starting at zero, as a server would persist it.
        var state = optimizer.StateNames.Select(_ => new float[Length]).ToArray();
        var expectedState = optimizer.StateNames.Select(_ => new float[Length]).ToArray();

        for (var round = 0; round < 3; round++)
        {
            var delta = Values(Length, 100 + round);
            optimizer.Apply(Buffer(theta), Buffer(delta), [.. state.Select(Buffer)]);
            switch (name)
            {
                case "fedavg":
                    OptimizerReference.FedAvg(expectedTheta, delta, 1.0);
                    break;
                case "fedavgm":
                    OptimizerReference.FedAvgM(expectedTheta, delta, expectedState[0], 1.0, 0.9);
                    break;
                case "diloco":
                    OptimizerReference.DiLoCo(expectedTheta, delta, expectedState[0], 0.7, 0.9);
                    break;
                default:
                    OptimizerReference.FedAdam(expectedTheta, delta, expectedState[0], expectedState[1], 0.01, 0.9, 0.99, 0.001);
                    break;
            }

            AssertBits(expectedTheta, theta);
            for (var s = 0; s < state.Length; s++)
            {
                AssertBits(expectedState[s], state[s]);
            }
        }

        // Momentum really carried over: after three rounds it is no longer the last round's Δ alone.
        if (state.Length > 0)
        {
            Assert.Contains(state[0], x => x != 0);
        }
    }

    [Fact]
    public void FedAvg_LearningRateOne_ReproducesModelPlusDelta()
    {
        var theta = Values(5000, 30);
        var delta = Values(5000, 31);

        // f32((double)θ + (double)Δ) is the correctly rounded float sum, i.e. float addition.
        var expected = theta.Zip(delta, static (t, d) => t + d).ToArray();

        new FedAvgOptimizer().Apply(Buffer(theta), Buffer(delta), []);

        AssertBits(expected, theta);
    }

    [Fact]
    public void DiLoCo_ZeroMomentum_EqualsPlainSgdStep()
    {
        const double Eta = 0.7;
        var theta = Values(5000, 40, zeros: false);
        var delta = Values(5000, 41, zeros: false);
        var momentum = new float[5000];

        // SGD on the pseudo-gradient g = −Δ: θ − η·g = θ + η·Δ.
        var expected = theta.Zip(delta, static (t, d) => (float)(t - (Eta * -(double)d))).ToArray();
        var viaFedAvg = (float[])theta.Clone();
        new FedAvgOptimizer(Eta).Apply(Buffer(viaFedAvg), Buffer(delta), []);

        new DiLoCoOptimizer(Eta, Momentum: 0).Apply(Buffer(theta), Buffer(delta), [Buffer(momentum)]);

        AssertBits(expected, theta);
        AssertBits(expected, viaFedAvg);

        // With μ = 0 the stored momentum is just g = −Δ.
        AssertBits([.. delta.Select(static d => -d)], momentum);
    }

    [Fact]
    public void FedAdam_FirstStepWithDefaults_MatchesHandComputation()
    {
        // θ = 1, Δ = 0.5, m = v = 0, η = 0.01, β₁ = 0.9, β₂ = 0.99, τ = 0.001.
        // m = f32(0.9·0 + (1 − 0.9)·0.5) = f32(0.05 − 1.1e-17) = 0.05f (the float nearest 0.05; the error is far
        //     below the float spacing 3.7e-9 there).
        // v = f32(0.99·0 + (1 − 0.99)·0.25) = f32(0.0025 + 2.2e-18) = 0.0025f (spacing 2.3e-10).
        // θ = f32(1 + 0.01·m / (sqrt(v) + 0.001)); sqrt(v) = 0.05 − 5.6e-10, so the step is
        //     0.0005/0.051 = 1/102 up to a relative 1e-8. In units of 2⁻²³ (the float spacing on [1, 2)),
        //     2²³/102 = 82241.25…, which rounds to 82241: θ = 1 + 82241·2⁻²³ = 1.009803891….
        var theta = new[] { 1f };
        var m = new float[1];
        var v = new float[1];

        new FedAdamOptimizer().Apply(Buffer(theta), Buffer([0.5f]), [Buffer(m), Buffer(v)]);

        Assert.Equal(0.05f, m[0]);
        Assert.Equal(0.0025f, v[0]);
        Assert.Equal(BitConverter.Int32BitsToSingle(0x3F80_0000 + 82241), theta[0]);
        Assert.Equal(1.009803891f, theta[0]);
    }

    [Fact]
    public void FedAdam_FirstStepWithDyadicParameters_IsExact()
    {
        // Every quantity is a short binary fraction, so nothing rounds:
        // m = 0.5·0 + 0.5·2 = 1; v = 0.75·0 + 0.25·(2·2) = 1; θ = 1 + 0.5·1 / (sqrt(1) + 1) = 1.25.
        var theta = new[] { 1f };
        var m = new float[1];
        var v = new float[1];

        new FedAdamOptimizer(LearningRate: 0.5, Beta1: 0.5, Beta2: 0.75, Tau: 1).Apply(Buffer(theta), Buffer([2f]), [Buffer(m), Buffer(v)]);

        Assert.Equal([1.25f], theta);
        Assert.Equal([1f], m);
        Assert.Equal([1f], v);
    }

    [Fact]
    public void FedAvgM_TwoSteps_UsesStoredMomentum()
    {
        // m₁ = 0.9·0 + 1 = 1, θ₁ = 0 + 1·1 = 1; m₂ = 0.9·1 + 1 = 1.9 → f32(1.9), θ₂ = f32(1 + f32(1.9)).
        var theta = new[] { 0f };
        var momentum = new float[1];
        var optimizer = new FedAvgMOptimizer();

        optimizer.Apply(Buffer(theta), Buffer([1f]), [Buffer(momentum)]);
        optimizer.Apply(Buffer(theta), Buffer([1f]), [Buffer(momentum)]);

        Assert.Equal(1.9f, momentum[0]);
        Assert.Equal((float)(1.0 + (double)1.9f), theta[0]);
    }

    [Fact]
    public void Properties_Defaults_MatchTheDocument()
    {
        Assert.Equal(("fedavg", 1.0), (new FedAvgOptimizer().Name, new FedAvgOptimizer().LearningRate));
        Assert.Equal((1.0, 0.9), (new FedAvgMOptimizer().LearningRate, new FedAvgMOptimizer().Momentum));
        Assert.Equal((0.7, 0.9), (new DiLoCoOptimizer().LearningRate, new DiLoCoOptimizer().Momentum));
        var adam = new FedAdamOptimizer();
        Assert.Equal((0.01, 0.9, 0.99, 0.001), (adam.LearningRate, adam.Beta1, adam.Beta2, adam.Tau));

        Assert.Equal(["fedavg", "fedavgm", "diloco", "fedadam"], new OuterOptimizer[] { new FedAvgOptimizer(), new FedAvgMOptimizer(), new DiLoCoOptimizer(), adam }.Select(o => o.Name));
        Assert.Empty(new FedAvgOptimizer().StateNames);
        Assert.Equal(["momentum"], new FedAvgMOptimizer().StateNames);
        Assert.Equal(["momentum"], new DiLoCoOptimizer().StateNames);
        Assert.Equal(["m", "v"], adam.StateNames);
        Assert.Equal(
            [new("eta", "0.01"), new("beta1", "0.9"), new("beta2", "0.99"), new("tau", "0.001")],
            adam.Parameters);
        Assert.Equal([new("eta", "0.7"), new("mu", "0.9")], new DiLoCoOptimizer().Parameters);
    }

    public static TheoryData<string, Func<OuterOptimizer>> InvalidParameters() => new()
    {
        { "LearningRate", () => new FedAvgOptimizer(0) },
        { "LearningRate", () => new FedAvgOptimizer(-1) },
        { "LearningRate", () => new FedAvgOptimizer(double.NaN) },
        { "LearningRate", () => new FedAvgOptimizer(double.PositiveInfinity) },
        { "LearningRate", () => new FedAvgOptimizer() with { LearningRate = -0.5 } },
        { "LearningRate", () => new FedAvgMOptimizer(LearningRate: 0) },
        { "Momentum", () => new FedAvgMOptimizer(Momentum: 1) },
        { "Momentum", () => new FedAvgMOptimizer(Momentum: -0.1) },
        { "Momentum", () => new FedAvgMOptimizer(Momentum: double.NaN) },
        { "LearningRate", () => new DiLoCoOptimizer(LearningRate: double.NegativeInfinity) },
        { "Momentum", () => new DiLoCoOptimizer(Momentum: 1.5) },
        { "Momentum", () => new DiLoCoOptimizer() with { Momentum = 1 } },
        { "LearningRate", () => new FedAdamOptimizer(LearningRate: 0) },
        { "Beta1", () => new FedAdamOptimizer(Beta1: 1) },
        { "Beta1", () => new FedAdamOptimizer(Beta1: -1e-9) },
        { "Beta2", () => new FedAdamOptimizer(Beta2: 1) },
        { "Beta2", () => new FedAdamOptimizer(Beta2: double.NaN) },
        { "Tau", () => new FedAdamOptimizer(Tau: 0) },
        { "Tau", () => new FedAdamOptimizer(Tau: double.PositiveInfinity) },
        { "Tau", () => new FedAdamOptimizer() with { Tau = -1 } },
    };

    [Theory]
    [MemberData(nameof(InvalidParameters))]
    public void Constructor_ParameterOutOfRange_ThrowsNamingTheParameter(string parameter, Func<OuterOptimizer> create)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(create);

        Assert.Equal(parameter, exception.ParamName);
    }

    [Fact]
    public void Constructor_BoundaryValues_AreAccepted()
    {
        Assert.Equal(0, new FedAvgMOptimizer(Momentum: 0).Momentum);
        Assert.Equal(0, new DiLoCoOptimizer(Momentum: 0).Momentum);
        Assert.Equal((0.0, 0.0), (new FedAdamOptimizer(Beta1: 0, Beta2: 0).Beta1, new FedAdamOptimizer(Beta1: 0, Beta2: 0).Beta2));
        Assert.Equal(double.Epsilon, new FedAvgOptimizer(double.Epsilon).LearningRate);
    }

    [Fact]
    public void Apply_DeltaLengthDiffers_ThrowsNamingDeltaAndLeavesModel()
    {
        var theta = new float[] { 1, 2, 3 };

        var exception = Assert.Throws<ArgumentException>(() => new FedAvgOptimizer().Apply(Buffer(theta), Buffer(new float[2]), []));

        Assert.Equal("delta", exception.ParamName);
        Assert.Equal([1f, 2f, 3f], theta);
    }

    [Fact]
    public void Apply_StateLengthDiffers_ThrowsNamingTheStateBuffer()
    {
        var exception = Assert.Throws<ArgumentException>(() =>
            new FedAdamOptimizer().Apply(Buffer(new float[3]), Buffer(new float[3]), [Buffer(new float[3]), Buffer(new float[4])]));

        Assert.Equal("state", exception.ParamName);
        Assert.StartsWith("state[1] (v) has length 4, but model has length 3", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fedavg", 1)]
    [InlineData("fedavgm", 0)]
    [InlineData("fedavgm", 2)]
    [InlineData("diloco", 0)]
    [InlineData("fedadam", 1)]
    [InlineData("fedadam", 3)]
    public void Apply_WrongStateCount_ThrowsNamingState(string name, int count)
    {
        var optimizer = Create(name);
        var state = Enumerable.Range(0, count).Select(_ => Buffer(new float[3])).ToArray();

        var exception = Assert.Throws<ArgumentException>(() => optimizer.Apply(Buffer(new float[3]), Buffer(new float[3]), state));

        Assert.Equal("state", exception.ParamName);
    }

    [Fact]
    public void Apply_StateAliasesModel_Throws()
    {
        var model = Buffer(new float[3]);

        var exception = Assert.Throws<ArgumentException>(() => new FedAvgMOptimizer().Apply(model, Buffer(new float[3]), [model]));

        Assert.Equal("state", exception.ParamName);
    }

    [Fact]
    public void Apply_NullArguments_Throw()
    {
        var optimizer = new FedAvgOptimizer();

        Assert.Throws<ArgumentNullException>("model", () => optimizer.Apply(null!, Buffer([]), []));
        Assert.Throws<ArgumentNullException>("delta", () => optimizer.Apply(Buffer([]), null!, []));
        Assert.Throws<ArgumentNullException>("state", () => optimizer.Apply(Buffer([]), Buffer([]), null!));
    }

    [Fact]
    public void Apply_CancelledToken_ThrowsAndLeavesModel()
    {
        var theta = new float[] { 1, 2 };

        Assert.Throws<OperationCanceledException>(() => new FedAvgOptimizer().Apply(Buffer(theta), Buffer([1f, 1f]), [], new CancellationToken(canceled: true)));

        Assert.Equal([1f, 2f], theta);
    }

    [Theory]
    [InlineData("fedavg")]
    [InlineData("fedadam")]
    public void Apply_LargeBuffers_ReadsAndWritesInBlocksOfAtMost4096(string name)
    {
        const long Length = (5 * 4096) + 17;
        var optimizer = Create(name);
        var model = new RecordingBuffer(Length);
        var delta = new RecordingBuffer(Length);
        var state = optimizer.StateNames.Select(_ => new RecordingBuffer(Length)).ToArray();

        optimizer.Apply(model, delta, state);

        foreach (var buffer in state.Append(model).Append(delta))
        {
            Assert.All(buffer.Accesses, a => Assert.InRange(a.Count, 1, 4096));
            Assert.Equal(Length, buffer.Accesses.Where(a => !a.Write).Sum(a => (long)a.Count));
        }

        Assert.Equal(Length, model.Accesses.Where(a => a.Write).Sum(a => (long)a.Count));
        Assert.DoesNotContain(delta.Accesses, a => a.Write);
    }

    private static OuterOptimizer Create(string name) => name switch
    {
        "fedavg" => new FedAvgOptimizer(),
        "fedavgm" => new FedAvgMOptimizer(),
        "diloco" => new DiLoCoOptimizer(),
        "fedadam" => new FedAdamOptimizer(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown optimizer"),
    };

    private static AggregateBuffer Buffer(float[] values) => AggregateBuffer.FromArray(values);

    /// <summary>
    /// Seeded values over a wide range of magnitudes and both signs; with <paramref name="zeros"/>, also ±0 and
    /// subnormals, which exercise the sign-of-zero and gradual-underflow corners of the rounding.
    /// </summary>
    private static float[] Values(int length, int seed, bool zeros = true)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            var kind = random.Next(64);
            values[i] = kind switch
            {
                0 when zeros => 0f,
                1 when zeros => -0f,
                2 when zeros => BitConverter.Int32BitsToSingle(random.Next(1, 1 << 23)) * (random.Next(2) == 0 ? 1 : -1),
                _ => (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-40, 12))),
            };
        }

        return values;
    }

    private static void AssertBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"coordinate {i}: expected {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}), got {actual[i]:R} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8})");
            }
        }
    }

    private sealed class RecordingBuffer(long length) : AggregateBuffer
    {
        private readonly float[] _values = new float[length];

        public List<(long Start, int Count, bool Write)> Accesses { get; } = [];

        public override long Length => _values.Length;

        public override void Read(long start, Span<float> destination)
        {
            Accesses.Add((start, destination.Length, false));
            _values.AsSpan((int)start, destination.Length).CopyTo(destination);
        }

        public override void Write(long start, ReadOnlySpan<float> values)
        {
            Accesses.Add((start, values.Length, true));
            values.CopyTo(_values.AsSpan((int)start));
        }
    }
}
