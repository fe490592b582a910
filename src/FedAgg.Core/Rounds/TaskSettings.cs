using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FedAgg.Core.Merkle;
using FedAgg.Core.Updates;

namespace FedAgg.Core.Rounds;

/// <summary>Who may submit updates to a task.</summary>
public enum AdmissionPolicy
{
    /// <summary>Any peer (JSON <c>open</c>).</summary>
    Open,

    /// <summary>Only peers on the coordinator's allowlist (JSON <c>allowlist</c>).</summary>
    Allowlist,

    /// <summary>Only peers that registered with the task, e.g. by binding an address (JSON <c>registered</c>).</summary>
    Registered,
}

/// <summary>One tensor of a task's model: its name and shape (C order); elements are float32.</summary>
/// <param name="Name">The tensor's name, 1 to 1024 UTF-8 bytes, unique in the model.</param>
/// <param name="Shape">The dimensions, each ≥ 0; an empty shape is a scalar (1 element).</param>
public sealed record TensorSpec(string Name, IReadOnlyList<long> Shape)
{
    /// <summary>The number of elements (the product of the dimensions; 1 for a scalar).</summary>
    /// <exception cref="OverflowException">The product overflows.</exception>
    public long ElementCount
    {
        get
        {
            var count = 1L;
            foreach (var dimension in Shape)
            {
                count = checked(count * dimension);
            }

            return count;
        }
    }

    /// <summary>Equal when the names and the shapes are equal.</summary>
    public bool Equals(TensorSpec? other) => other is not null && Name == other.Name && Shape.SequenceEqual(other.Shape);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Shape.Count);
}

/// <summary>A task's model: float32 tensors, concatenated in this order to form the model vector (and the model hash's payload).</summary>
/// <param name="Tensors">The tensors in order; at least one.</param>
public sealed record ModelSpec(IReadOnlyList<TensorSpec> Tensors)
{
    /// <summary>The element type of the model; always <c>float32</c> (updates may travel narrower, see <see cref="TaskSettings.Codec"/>).</summary>
    public const string DType = "float32";

    /// <summary>The number of parameters d: the tensors' element counts summed; this is every update's <c>numElements</c>.</summary>
    /// <exception cref="OverflowException">The sum overflows.</exception>
    public long NumElements
    {
        get
        {
            var total = 0L;
            foreach (var tensor in Tensors)
            {
                total = checked(total + tensor.ElementCount);
            }

            return total;
        }
    }

    /// <summary>Equal when the tensors are equal, in order.</summary>
    public bool Equals(ModelSpec? other) => other is not null && Tensors.SequenceEqual(other.Tensors);

    /// <inheritdoc />
    public override int GetHashCode() => Tensors.Count;
}

/// <summary>
/// The robust rule and its parameters (docs/AGGREGATION.md). Each rule takes exactly these parameters, all required
/// unless marked optional: <c>mean</c>, <c>median</c>: none; <c>trimmed-mean</c>: beta; <c>krum</c>, <c>bulyan</c>: f;
/// <c>multi-krum</c>: f, m (optional, default n − f); <c>centered-clipping</c>: tau, iterations (the centre v₀ is zero);
/// <c>geometric-median</c>: nu, iterations.
/// </summary>
/// <param name="Name">The rule's name.</param>
public sealed record RuleSpec(string Name)
{
    /// <summary>Assumed Byzantine count f (≥ 0).</summary>
    public int? F { get; init; }

    /// <summary>Trimmed fraction β per side, in [0, 0.5).</summary>
    public double? Beta { get; init; }

    /// <summary>Multi-Krum's m (≥ 1).</summary>
    public int? M { get; init; }

    /// <summary>Centered clipping's radius τ (finite, &gt; 0).</summary>
    public double? Tau { get; init; }

    /// <summary>Iterations L or T (≥ 1).</summary>
    public int? Iterations { get; init; }

    /// <summary>Geometric median's smoothing ν (finite, &gt; 0).</summary>
    public double? Nu { get; init; }
}

/// <summary>
/// A pre-aggregation step (docs/AGGREGATION.md), applied in list order before the rule: <c>clip-norm</c> (c),
/// <c>nearest-neighbour-mixing</c> (f), <c>bucketing</c> (s, seed).
/// </summary>
/// <param name="Name">The step's name.</param>
public sealed record PreStepSpec(string Name)
{
    /// <summary>clip-norm's bound C (finite, &gt; 0).</summary>
    public double? C { get; init; }

    /// <summary>nearest-neighbour-mixing's f (≥ 0).</summary>
    public int? F { get; init; }

    /// <summary>bucketing's bucket size s (≥ 1).</summary>
    public int? S { get; init; }

    /// <summary>bucketing's permutation seed (a u64, written as a decimal string).</summary>
    public ulong? Seed { get; init; }
}

/// <summary>
/// The outer optimizer and its parameters (docs/AGGREGATION.md), all required: <c>fedavg</c> (eta), <c>fedavgm</c> (eta,
/// mu), <c>diloco</c> (eta, mu), <c>fedadam</c> (eta, beta1, beta2, tau).
/// </summary>
/// <param name="Name">The optimizer's name.</param>
public sealed record OptimizerSpec(string Name)
{
    /// <summary>Learning rate η (finite, &gt; 0).</summary>
    public double? Eta { get; init; }

    /// <summary>Momentum μ in [0, 1).</summary>
    public double? Mu { get; init; }

    /// <summary>FedAdam's β₁ in [0, 1).</summary>
    public double? Beta1 { get; init; }

    /// <summary>FedAdam's β₂ in [0, 1).</summary>
    public double? Beta2 { get; init; }

    /// <summary>FedAdam's τ (finite, &gt; 0).</summary>
    public double? Tau { get; init; }
}

/// <summary>
/// A task's settings: what every round of the task is held to, and what the ledger's <c>settingsHash</c> commits to
/// (docs/PROTOCOL.md, "Task settings"). JSON with camelCase names; integers are JSON numbers (≤ 2^53 − 1), every
/// non-integer is a string in shortest round-trip form, u64 seeds and uint256 amounts are decimal strings.
/// <see cref="ComputeHash"/> is SHA-256 of <see cref="ToCanonicalJson"/>. Equality is equality of the canonical JSON.
/// </summary>
public sealed record TaskSettings
{
    /// <summary>The only aggregation arithmetic this build implements (docs/AGGREGATION.md, version 2).</summary>
    public const string CurrentAggregationArithmetic = "fedagg-aggregation-v2";

    /// <summary>The protocol version these settings describe (docs/PROTOCOL.md).</summary>
    public const string CurrentProtocolVersion = "1.5";

    /// <summary>The most participants a round may have.</summary>
    public const int MaxParticipantsLimit = 1_000_000;

    /// <summary>The most tensors a model may have.</summary>
    public const int MaxTensors = 100_000;

    /// <summary>The most pre-aggregation steps.</summary>
    public const int MaxPreSteps = 16;

    /// <summary>The longest serialized settings accepted by <see cref="FromJson(ReadOnlySpan{byte})"/> (64 MiB).</summary>
    public const int MaxJsonBytes = 64 << 20;

    private static readonly string[] RuleNames = ["mean", "median", "trimmed-mean", "krum", "multi-krum", "bulyan", "centered-clipping", "geometric-median"];
    private static readonly string[] StepNames = ["clip-norm", "nearest-neighbour-mixing", "bucketing"];
    private static readonly string[] OptimizerNames = ["fedavg", "fedavgm", "diloco", "fedadam"];

    /// <summary>The task's ID, 1 to 128 UTF-8 bytes (the preimage's taskId).</summary>
    public required string TaskId { get; init; }

    /// <summary>The model's tensors.</summary>
    public required ModelSpec Model { get; init; }

    /// <summary>How updates encode their elements (JSON <c>float32</c>, <c>float16</c>, <c>bfloat16</c>).</summary>
    public PayloadCodec Codec { get; init; } = PayloadCodec.Float32;

    /// <summary>The robust rule.</summary>
    public required RuleSpec Rule { get; init; }

    /// <summary>Pre-aggregation steps in order (default none).</summary>
    public IReadOnlyList<PreStepSpec> PreSteps { get; init; } = [];

    /// <summary>The outer optimizer.</summary>
    public required OptimizerSpec Optimizer { get; init; }

    /// <summary>Credits each round splits among its contributors (a uint256; JSON decimal string).</summary>
    public BigInteger CreditsPerRound { get; init; }

    /// <summary>The fewest accepted updates a round closes with (≥ 1).</summary>
    public int MinParticipants { get; init; } = 1;

    /// <summary>The most accepted updates a round takes (≥ <see cref="MinParticipants"/>, ≤ 1,000,000).</summary>
    public int MaxParticipants { get; init; } = 1000;

    /// <summary>How long a round stays open, in seconds (≥ 1).</summary>
    public long RoundDurationSeconds { get; init; } = 3600;

    /// <summary>Who may submit.</summary>
    public AdmissionPolicy Admission { get; init; } = AdmissionPolicy.Open;

    /// <summary>The docs/AGGREGATION.md version the rounds are computed with (default <see cref="CurrentAggregationArithmetic"/>).</summary>
    public string AggregationArithmetic { get; init; } = CurrentAggregationArithmetic;

    /// <summary>The docs/PROTOCOL.md version (default <see cref="CurrentProtocolVersion"/>).</summary>
    public string ProtocolVersion { get; init; } = CurrentProtocolVersion;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> whose message starts with the offending field's JSON path (e.g.
    /// <c>rule.f</c>) and says the allowed range, unless every field is in range.
    /// </summary>
    public void Validate()
    {
        var taskIdBytes = TaskId is null ? 0 : Encoding.UTF8.GetByteCount(TaskId);
        Require(taskIdBytes is >= 1 and <= UpdatePreimage.MaxTaskIdBytes, "taskId", $"must be 1 to {UpdatePreimage.MaxTaskIdBytes} UTF-8 bytes, got {taskIdBytes}");
        ValidateModel();
        Require(Codec.IsDefined(), "codec", $"must be float32, float16 or bfloat16, got {(byte)Codec}");
        ValidateRule();
        Require(PreSteps is not null && PreSteps.Count <= MaxPreSteps, "preSteps", $"must hold at most {MaxPreSteps} steps");
        for (var i = 0; i < PreSteps!.Count; i++)
        {
            ValidateStep(PreSteps[i], $"preSteps[{i}]");
        }

        ValidateOptimizer();
        Require(CreditsPerRound.Sign >= 0 && CreditsPerRound < (BigInteger.One << 256), "creditsPerRound", $"must be a uint256, got {CreditsPerRound}");
        Require(MinParticipants >= 1, "minParticipants", $"must be ≥ 1, got {MinParticipants}");
        Require(MaxParticipants >= MinParticipants && MaxParticipants <= MaxParticipantsLimit, "maxParticipants",
            $"must be in [minParticipants = {MinParticipants}, {MaxParticipantsLimit}], got {MaxParticipants}");
        Require(RoundDurationSeconds >= 1 && RoundDurationSeconds <= CanonicalJson.MaxSafeInteger, "roundDurationSeconds", $"must be ≥ 1, got {RoundDurationSeconds}");
        Require(Enum.IsDefined(Admission), "admission", $"must be open, allowlist or registered, got {(int)Admission}");
        Require(AggregationArithmetic == CurrentAggregationArithmetic, "aggregationArithmetic",
            $"must be '{CurrentAggregationArithmetic}' (the arithmetic this build implements), got '{AggregationArithmetic}'");
        Require(ProtocolVersion is { Length: > 0 and <= 16 }, "protocolVersion", "must be a version such as '1.4'");
    }

    /// <summary>The settings as JSON (members in a fixed order, no whitespace; not necessarily canonical).</summary>
    public byte[] ToJsonUtf8()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The canonical JSON of the settings (<see cref="CanonicalJson"/>), the bytes <see cref="ComputeHash"/> hashes.</summary>
    public byte[] ToCanonicalJson() => CanonicalJson.Canonicalize(ToJsonUtf8());

    /// <summary><c>settingsHash = SHA-256(canonical JSON)</c>, what the ledger registers and every round anchors.</summary>
    public Bytes32 ComputeHash() => new(SHA256.HashData(ToCanonicalJson()));

    /// <summary>Writes the settings as a JSON object.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("taskId", TaskId);
        writer.WriteStartObject("model");
        writer.WriteString("dtype", ModelSpec.DType);
        writer.WriteStartArray("tensors");
        foreach (var tensor in Model.Tensors)
        {
            writer.WriteStartObject();
            writer.WriteString("name", tensor.Name);
            writer.WriteStartArray("shape");
            foreach (var dimension in tensor.Shape)
            {
                writer.WriteNumberValue(dimension);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteString("codec", Codec.ToWireName());
        writer.WriteStartObject("rule");
        writer.WriteString("name", Rule.Name);
        WriteInteger(writer, "f", Rule.F);
        WriteDouble(writer, "beta", Rule.Beta);
        WriteInteger(writer, "m", Rule.M);
        WriteDouble(writer, "tau", Rule.Tau);
        WriteInteger(writer, "iterations", Rule.Iterations);
        WriteDouble(writer, "nu", Rule.Nu);
        writer.WriteEndObject();
        writer.WriteStartArray("preSteps");
        foreach (var step in PreSteps)
        {
            writer.WriteStartObject();
            writer.WriteString("name", step.Name);
            WriteDouble(writer, "c", step.C);
            WriteInteger(writer, "f", step.F);
            WriteInteger(writer, "s", step.S);
            if (step.Seed is { } seed)
            {
                writer.WriteString("seed", seed.ToString(CultureInfo.InvariantCulture));
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartObject("optimizer");
        writer.WriteString("name", Optimizer.Name);
        WriteDouble(writer, "eta", Optimizer.Eta);
        WriteDouble(writer, "mu", Optimizer.Mu);
        WriteDouble(writer, "beta1", Optimizer.Beta1);
        WriteDouble(writer, "beta2", Optimizer.Beta2);
        WriteDouble(writer, "tau", Optimizer.Tau);
        writer.WriteEndObject();
        writer.WriteString("creditsPerRound", CreditsPerRound.ToString(CultureInfo.InvariantCulture));
        writer.WriteNumber("minParticipants", MinParticipants);
        writer.WriteNumber("maxParticipants", MaxParticipants);
        writer.WriteNumber("roundDurationSeconds", RoundDurationSeconds);
        writer.WriteString("admission", Admission switch
        {
            AdmissionPolicy.Open => "open",
            AdmissionPolicy.Allowlist => "allowlist",
            AdmissionPolicy.Registered => "registered",
            _ => throw new ArgumentException($"admission: unknown policy {(int)Admission}"),
        });
        writer.WriteString("aggregationArithmetic", AggregationArithmetic);
        writer.WriteString("protocolVersion", ProtocolVersion);
        writer.WriteEndObject();
    }

    /// <summary>Parses settings JSON strictly (unknown or repeated fields, wrong types and non-normal numbers are errors) and validates them.</summary>
    /// <exception cref="FormatException">The JSON is malformed or a field is wrong; the message names the field.</exception>
    public static TaskSettings FromJson(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxJsonBytes)
        {
            throw new FormatException($"the settings are {utf8Json.Length} bytes, more than {MaxJsonBytes}");
        }

        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 16 });
            using var document = JsonDocument.ParseValue(ref reader);
            return Read(document.RootElement, "settings");
        }
        catch (JsonException e)
        {
            throw new FormatException($"settings: not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Reads and validates settings from a JSON element; errors name the field under <paramref name="path"/>.</summary>
    /// <exception cref="FormatException">A field is missing, unknown, repeated, of the wrong type or out of range.</exception>
    public static TaskSettings Read(JsonElement element, string path)
    {
        var o = new StrictObject(element, path);
        var model = new StrictObject(o.Required("model"), o.Child("model"));
        var dtype = model.String("dtype", 16);
        if (dtype != ModelSpec.DType)
        {
            throw new FormatException($"{model.Child("dtype")}: must be '{ModelSpec.DType}', got '{dtype}'");
        }

        var tensors = new List<TensorSpec>();
        var tensorItems = StrictJson.Array(model.Required("tensors"), model.Child("tensors"), MaxTensors);
        for (var i = 0; i < tensorItems.Length; i++)
        {
            var t = new StrictObject(tensorItems[i], $"{model.Child("tensors")}[{i}]");
            var name = t.String("name", 1024);
            var shapeItems = StrictJson.Array(t.Required("shape"), t.Child("shape"), 64);
            var shape = new long[shapeItems.Length];
            for (var k = 0; k < shape.Length; k++)
            {
                shape[k] = StrictJson.Integer(shapeItems[k], $"{t.Child("shape")}[{k}]", 0, CanonicalJson.MaxSafeInteger);
            }

            t.End();
            tensors.Add(new TensorSpec(name, shape));
        }

        model.End();
        var codecName = o.String("codec", 16);
        var codec = codecName switch
        {
            "float32" => PayloadCodec.Float32,
            "float16" => PayloadCodec.Float16,
            "bfloat16" => PayloadCodec.BFloat16,
            _ => throw new FormatException($"{o.Child("codec")}: must be float32, float16 or bfloat16, got '{codecName}'"),
        };

        var ruleObject = new StrictObject(o.Required("rule"), o.Child("rule"));
        var rule = new RuleSpec(ruleObject.String("name", 64))
        {
            F = OptionalInt(ruleObject, "f"),
            Beta = OptionalDouble(ruleObject, "beta"),
            M = OptionalInt(ruleObject, "m"),
            Tau = OptionalDouble(ruleObject, "tau"),
            Iterations = OptionalInt(ruleObject, "iterations"),
            Nu = OptionalDouble(ruleObject, "nu"),
        };
        ruleObject.End();

        var steps = new List<PreStepSpec>();
        var stepItems = StrictJson.Array(o.Required("preSteps"), o.Child("preSteps"), MaxPreSteps);
        for (var i = 0; i < stepItems.Length; i++)
        {
            var s = new StrictObject(stepItems[i], $"{o.Child("preSteps")}[{i}]");
            steps.Add(new PreStepSpec(s.String("name", 64))
            {
                C = OptionalDouble(s, "c"),
                F = OptionalInt(s, "f"),
                S = OptionalInt(s, "s"),
                Seed = s.Optional("seed") is { } seed ? StrictJson.UInt64String(seed, s.Child("seed")) : null,
            });
            s.End();
        }

        var optimizerObject = new StrictObject(o.Required("optimizer"), o.Child("optimizer"));
        var optimizer = new OptimizerSpec(optimizerObject.String("name", 64))
        {
            Eta = OptionalDouble(optimizerObject, "eta"),
            Mu = OptionalDouble(optimizerObject, "mu"),
            Beta1 = OptionalDouble(optimizerObject, "beta1"),
            Beta2 = OptionalDouble(optimizerObject, "beta2"),
            Tau = OptionalDouble(optimizerObject, "tau"),
        };
        optimizerObject.End();

        var admissionName = o.String("admission", 16);
        var settings = new TaskSettings
        {
            TaskId = o.String("taskId", UpdatePreimage.MaxTaskIdBytes),
            Model = new ModelSpec(tensors),
            Codec = codec,
            Rule = rule,
            PreSteps = steps,
            Optimizer = optimizer,
            CreditsPerRound = StrictJson.Uint256(o.Required("creditsPerRound"), o.Child("creditsPerRound")),
            MinParticipants = (int)o.Integer("minParticipants", 0, MaxParticipantsLimit),
            MaxParticipants = (int)o.Integer("maxParticipants", 0, MaxParticipantsLimit),
            RoundDurationSeconds = o.Integer("roundDurationSeconds", 0, CanonicalJson.MaxSafeInteger),
            Admission = admissionName switch
            {
                "open" => AdmissionPolicy.Open,
                "allowlist" => AdmissionPolicy.Allowlist,
                "registered" => AdmissionPolicy.Registered,
                _ => throw new FormatException($"{o.Child("admission")}: must be open, allowlist or registered, got '{admissionName}'"),
            },
            AggregationArithmetic = o.String("aggregationArithmetic", 64),
            ProtocolVersion = o.String("protocolVersion", 16),
        };
        o.End();
        try
        {
            settings.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"{path}.{e.Message}", e);
        }

        return settings;
    }

    /// <summary>Equal when the canonical JSON is equal.</summary>
    public bool Equals(TaskSettings? other) =>
        other is not null && (ReferenceEquals(this, other) || ToJsonUtf8().AsSpan().SequenceEqual(other.ToJsonUtf8()));

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(TaskId, Rule.Name, Optimizer.Name);

    private void ValidateModel()
    {
        Require(Model is not null && Model.Tensors is { Count: >= 1 and <= MaxTensors }, "model.tensors", $"must hold 1 to {MaxTensors} tensors");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Model!.Tensors.Count; i++)
        {
            var tensor = Model.Tensors[i];
            var field = $"model.tensors[{i}]";
            Require(tensor is not null, field, "must not be null");
            var nameBytes = tensor!.Name is null ? 0 : Encoding.UTF8.GetByteCount(tensor.Name);
            Require(nameBytes is >= 1 and <= 1024, field + ".name", $"must be 1 to 1024 UTF-8 bytes, got {nameBytes}");
            Require(names.Add(tensor.Name!), field + ".name", $"'{tensor.Name}' is used twice");
            Require(tensor.Shape is { Count: <= 64 } && tensor.Shape.All(static d => d >= 0 && d <= CanonicalJson.MaxSafeInteger), field + ".shape",
                "must have at most 64 dimensions, each in [0, 2^53−1]");
        }

        long numElements;
        try
        {
            numElements = Model.NumElements;
        }
        catch (OverflowException)
        {
            numElements = -1;
        }

        Require(numElements >= 1 && numElements <= CanonicalJson.MaxSafeInteger / 4, "model.tensors",
            $"must hold 1 to {CanonicalJson.MaxSafeInteger / 4} elements in all, got {(numElements < 0 ? "an overflow" : numElements.ToString(CultureInfo.InvariantCulture))}");
    }

    private void ValidateRule()
    {
        Require(Rule is not null, "rule", "is missing");
        var name = Rule!.Name;
        Require(RuleNames.Contains(name), "rule.name", $"must be one of {string.Join(", ", RuleNames)}, got '{name}'");
        string[] required = name switch
        {
            "trimmed-mean" => ["beta"],
            "krum" or "bulyan" => ["f"],
            "multi-krum" => ["f"],
            "centered-clipping" => ["tau", "iterations"],
            "geometric-median" => ["nu", "iterations"],
            _ => [],
        };
        string[] optional = name == "multi-krum" ? ["m"] : [];
        CheckParameters("rule", name, required, optional,
            ("f", Rule.F is not null), ("beta", Rule.Beta is not null), ("m", Rule.M is not null),
            ("tau", Rule.Tau is not null), ("iterations", Rule.Iterations is not null), ("nu", Rule.Nu is not null));
        Require(Rule.F is null or >= 0, "rule.f", $"must be ≥ 0, got {Rule.F}");
        Require(Rule.Beta is null || (Rule.Beta >= 0 && Rule.Beta < 0.5), "rule.beta", $"must be in [0, 0.5), got {Format(Rule.Beta)}");
        Require(Rule.M is null or >= 1, "rule.m", $"must be ≥ 1, got {Rule.M}");
        Require(Rule.Tau is null || (Rule.Tau > 0 && double.IsFinite(Rule.Tau.Value)), "rule.tau", $"must be a finite number > 0, got {Format(Rule.Tau)}");
        Require(Rule.Iterations is null or >= 1, "rule.iterations", $"must be ≥ 1, got {Rule.Iterations}");
        Require(Rule.Nu is null || (Rule.Nu > 0 && double.IsFinite(Rule.Nu.Value)), "rule.nu", $"must be a finite number > 0, got {Format(Rule.Nu)}");
    }

    private static void ValidateStep(PreStepSpec step, string field)
    {
        Require(step is not null, field, "must not be null");
        Require(StepNames.Contains(step!.Name), field + ".name", $"must be one of {string.Join(", ", StepNames)}, got '{step.Name}'");
        string[] required = step.Name switch
        {
            "clip-norm" => ["c"],
            "nearest-neighbour-mixing" => ["f"],
            _ => ["s", "seed"],
        };
        CheckParameters(field, step.Name, required, [], ("c", step.C is not null), ("f", step.F is not null), ("s", step.S is not null), ("seed", step.Seed is not null));
        Require(step.C is null || (step.C > 0 && double.IsFinite(step.C.Value)), field + ".c", $"must be a finite number > 0, got {Format(step.C)}");
        Require(step.F is null or >= 0, field + ".f", $"must be ≥ 0, got {step.F}");
        Require(step.S is null or >= 1, field + ".s", $"must be ≥ 1, got {step.S}");
    }

    private void ValidateOptimizer()
    {
        Require(Optimizer is not null, "optimizer", "is missing");
        var name = Optimizer!.Name;
        Require(OptimizerNames.Contains(name), "optimizer.name", $"must be one of {string.Join(", ", OptimizerNames)}, got '{name}'");
        string[] required = name switch
        {
            "fedavg" => ["eta"],
            "fedavgm" or "diloco" => ["eta", "mu"],
            _ => ["eta", "beta1", "beta2", "tau"],
        };
        CheckParameters("optimizer", name, required, [],
            ("eta", Optimizer.Eta is not null), ("mu", Optimizer.Mu is not null), ("beta1", Optimizer.Beta1 is not null),
            ("beta2", Optimizer.Beta2 is not null), ("tau", Optimizer.Tau is not null));
        Require(Optimizer.Eta is null || (Optimizer.Eta > 0 && double.IsFinite(Optimizer.Eta.Value)), "optimizer.eta", $"must be a finite number > 0, got {Format(Optimizer.Eta)}");
        Require(Optimizer.Mu is null || (Optimizer.Mu >= 0 && Optimizer.Mu < 1), "optimizer.mu", $"must be in [0, 1), got {Format(Optimizer.Mu)}");
        Require(Optimizer.Beta1 is null || (Optimizer.Beta1 >= 0 && Optimizer.Beta1 < 1), "optimizer.beta1", $"must be in [0, 1), got {Format(Optimizer.Beta1)}");
        Require(Optimizer.Beta2 is null || (Optimizer.Beta2 >= 0 && Optimizer.Beta2 < 1), "optimizer.beta2", $"must be in [0, 1), got {Format(Optimizer.Beta2)}");
        Require(Optimizer.Tau is null || (Optimizer.Tau > 0 && double.IsFinite(Optimizer.Tau.Value)), "optimizer.tau", $"must be a finite number > 0, got {Format(Optimizer.Tau)}");
    }

    private static void CheckParameters(string field, string name, string[] required, string[] optional, params (string Name, bool Present)[] parameters)
    {
        foreach (var (parameter, present) in parameters)
        {
            var isRequired = required.Contains(parameter);
            Require(!isRequired || present, $"{field}.{parameter}", $"is required by {name}");
            Require(isRequired || optional.Contains(parameter) || !present, $"{field}.{parameter}", $"does not apply to {name}");
        }
    }

    private static void Require(bool condition, string field, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"{field} {message}");
        }
    }

    private static string Format(double? value) => value is { } v ? StrictJson.FormatDouble(v) : "nothing";

    private static int? OptionalInt(StrictObject o, string name) =>
        o.Optional(name) is { } value ? (int)StrictJson.Integer(value, o.Child(name), int.MinValue, int.MaxValue) : null;

    private static double? OptionalDouble(StrictObject o, string name) =>
        o.Optional(name) is { } value ? StrictJson.Double(value, o.Child(name)) : null;

    private static void WriteInteger(Utf8JsonWriter writer, string name, int? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
    }

    private static void WriteDouble(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteString(name, StrictJson.FormatDouble(v));
        }
    }
}
