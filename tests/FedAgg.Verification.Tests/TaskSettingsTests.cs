using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using FedAgg.Aggregation;
using FedAgg.Core.Rounds;
using FedAgg.TestKit.Processes;

namespace FedAgg.Verification.Tests;

/// <summary>Task settings: canonical JSON cross-checked with Python's json module, the hash, strict parsing and validation.</summary>
public sealed class TaskSettingsTests
{
    private const string PythonCanonical = """
        import hashlib, json, sys
        for path in sys.argv[1:]:
            with open(path, 'rb') as f:
                value = json.loads(f.read().decode('utf-8'))
            text = json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
            print(text.hex() + ' ' + hashlib.sha256(text).hexdigest())
        """;

    public static TaskSettings Sample(string taskId = "fashion-mnist/mlp") => RoundWorldFixture.Settings(taskId, new MultiKrumRule(1, 3), new FedAvgMOptimizer(0.7, 0.9)) with
    {
        PreSteps = [new ClipNormStep(12.5).ToPreStepSpec(), new BucketingStep(2, ulong.MaxValue).ToPreStepSpec()],
        CreditsPerRound = BigInteger.Pow(10, 30),
    };

    [Fact]
    public async Task ToCanonicalJson_ManySettings_MatchesPythonSortKeysAndSha256()
    {
        // Settings with every rule and optimizer, odd task ids (quotes, backslashes, control characters, non-ASCII) and
        // doubles that need all 17 digits; Python's json.dumps(sort_keys, compact, ensure_ascii=False) is JCS for these.
        string[] taskIds = ["plain", "quote\"back\\slash", "tab\tnew\nline\u0001\u001f", "naïve-Ωμέγα-日本", "emoji-😀", "del\u007f-ls\u2028"];
        AggregationRule[] rules = [new MeanRule(), new MedianRule(), new TrimmedMeanRule(0.1), new KrumRule(1), new MultiKrumRule(2), new BulyanRule(0),
            new CenteredClippingRule(0.30000000000000004, 3), new GeometricMedianRule(1e-6, 10)];
        OuterOptimizer[] optimizers = [new FedAvgOptimizer(), new FedAvgMOptimizer(1.0 / 3), new DiLoCoOptimizer(), new FedAdamOptimizer(0.01, 0.9, 0.99, 1e-3)];
        var settings = new List<TaskSettings>();
        for (var i = 0; i < taskIds.Length * 4; i++)
        {
            settings.Add(Sample(taskIds[i % taskIds.Length]) with
            {
                Rule = rules[i % rules.Length].ToRuleSpec(),
                Optimizer = optimizers[i % optimizers.Length].ToOptimizerSpec(),
                PreSteps = i % 3 == 0 ? [] : [new NearestNeighbourMixingStep(i % 2).ToPreStepSpec()],
                CreditsPerRound = BigInteger.Pow(7, i * 4),
                Admission = (AdmissionPolicy)(i % 3),
            });
        }

        var directory = Directory.CreateTempSubdirectory("fedagg-settings-").FullName;
        try
        {
            var paths = new List<string>();
            for (var i = 0; i < settings.Count; i++)
            {
                var path = Path.Combine(directory, $"{i}.json");
                await File.WriteAllBytesAsync(path, settings[i].ToJsonUtf8());
                paths.Add(path);
            }

            var lines = (await PythonRunner.RunNumpyAsync(PythonCanonical, [.. paths])).Split('\n', StringSplitOptions.RemoveEmptyEntries);

            Assert.Equal(settings.Count, lines.Length);
            for (var i = 0; i < settings.Count; i++)
            {
                var parts = lines[i].Split(' ');
                Assert.Equal(parts[0], Convert.ToHexStringLower(settings[i].ToCanonicalJson()));
                Assert.Equal("0x" + parts[1], settings[i].ComputeHash().ToString());
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Canonicalize_ReorderedWhitespaceAndNumberSpellings_GiveTheSameBytes()
    {
        var a = CanonicalJson.Canonicalize("""{ "b": [1, 2.0, -0, 1e2], "a": {"y": null, "x": true}, "\u00e9": "\u00e9\n" }"""u8);
        var b = CanonicalJson.Canonicalize("""{"\u00e9":"é\n","a":{"x":true,"y":null},"b":[1,2,0,100]}"""u8);

        Assert.Equal(a, b);
        Assert.Equal("{\"a\":{\"x\":true,\"y\":null},\"b\":[1,2,0,100],\"é\":\"é\\n\"}", Encoding.UTF8.GetString(a));
    }

    [Theory]
    [InlineData("""{"a":1.5}""")]
    [InlineData("""{"a":9007199254740992}""")]
    [InlineData("""{"a":1,"a":2}""")]
    [InlineData("""{"a":"\ud800"}""")]
    public void Canonicalize_ValueOutsideTheCanonicalForm_Throws(string json) =>
        Assert.Throws<FormatException>(() => CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void FromJson_WrittenSettings_RoundTripsWithTheSameHash()
    {
        var settings = Sample();

        var parsed = TaskSettings.FromJson(settings.ToJsonUtf8());

        Assert.Equal(settings, parsed);
        Assert.Equal(settings.ComputeHash(), parsed.ComputeHash());
        Assert.Equal(ulong.MaxValue, parsed.PreSteps[1].Seed);
        Assert.Equal(BigInteger.Pow(10, 30), parsed.CreditsPerRound);
        Assert.Equal(16, parsed.Model.NumElements);
        Assert.Equal(new Core.Merkle.Bytes32(SHA256.HashData(settings.ToCanonicalJson())), settings.ComputeHash());
    }

    [Fact]
    public void ComputeHash_AnyParameterChanged_ChangesTheHash()
    {
        var settings = Sample();
        TaskSettings[] variants =
        [
            settings with { Rule = settings.Rule with { F = 2 } },
            settings with { Optimizer = settings.Optimizer with { Mu = 0.95 } },
            settings with { PreSteps = [settings.PreSteps[1], settings.PreSteps[0]] },
            settings with { CreditsPerRound = settings.CreditsPerRound + 1 },
            settings with { MaxParticipants = 11 },
            settings with { Admission = AdmissionPolicy.Registered },
        ];

        Assert.Equal(variants.Length + 1, variants.Select(static v => v.ComputeHash()).Append(settings.ComputeHash()).Distinct().Count());
    }

    [Theory]
    [InlineData("rule", """{"name":"krum","f":1,"beta":"0.1"}""", "settings.rule.beta does not apply to krum")]
    [InlineData("rule", """{"name":"krum"}""", "settings.rule.f is required by krum")]
    [InlineData("rule", """{"name":"krum","f":-1}""", "settings.rule.f must be ≥ 0")]
    [InlineData("rule", """{"name":"krum","f":1,"extra":1}""", "settings.rule.extra: unknown field")]
    [InlineData("optimizer", """{"name":"fedavgm","eta":"1","mu":"0.90"}""", "settings.optimizer.mu: '0.90' is not in shortest round-trip form")]
    [InlineData("optimizer", """{"name":"fedavgm","eta":"1","mu":"1"}""", "settings.optimizer.mu must be in [0, 1)")]
    [InlineData("creditsPerRound", "\"01\"", "settings.creditsPerRound: '01' is not a decimal integer")]
    [InlineData("minParticipants", "0", "settings.minParticipants must be ≥ 1")]
    [InlineData("minParticipants", "1.0", "settings.minParticipants: 1.0 is not an integer")]
    [InlineData("admission", "\"everyone\"", "settings.admission: must be open, allowlist or registered")]
    [InlineData("aggregationArithmetic", "\"fedagg-aggregation-v1\"", "settings.aggregationArithmetic must be 'fedagg-aggregation-v2'")]
    public void FromJson_BadField_NamesTheField(string field, string value, string message)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(Sample().ToJsonUtf8())!.AsObject();
        json[field] = System.Text.Json.Nodes.JsonNode.Parse(value);

        var error = Assert.Throws<FormatException>(() => TaskSettings.FromJson(Encoding.UTF8.GetBytes(json.ToJsonString())));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromJson_UnknownTopLevelField_IsRejected()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(Sample().ToJsonUtf8())!.AsObject();
        json["deadline"] = 5;

        var error = Assert.Throws<FormatException>(() => TaskSettings.FromJson(Encoding.UTF8.GetBytes(json.ToJsonString())));

        Assert.Equal("settings.deadline: unknown field", error.Message);
    }

    [Fact]
    public void ToAggregationSettings_Sample_IsTheEngineEquivalent()
    {
        var settings = Sample();

        var engine = settings.ToAggregationSettings();

        Assert.Equal(new MultiKrumRule(1, 3), engine.Rule);
        Assert.Equal([new ClipNormStep(12.5), new BucketingStep(2, ulong.MaxValue)], engine.Steps);
        Assert.Equal(new FedAvgMOptimizer(0.7, 0.9), settings.ToOuterOptimizer());
    }
}
