using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using FedAgg.Aggregation;
using FedAgg.Core.Tensors;

namespace FedAgg.Cli;

/// <summary><c>fedagg aggregate</c>: runs a robust rule over .npy updates and writes the aggregate as .npy.</summary>
internal static class AggregateCommand
{
    public static readonly string[] RuleNames =
        ["mean", "median", "trimmed-mean", "krum", "multi-krum", "bulyan", "centered-clipping", "geometric-median"];

    public static Command Create()
    {
        var rule = new Option<string>("--rule") { Description = $"The rule: {string.Join(", ", RuleNames)}", Required = true, HelpName = "rule" };
        rule.AcceptOnlyFromAmong(RuleNames);
        var f = new Option<int?>("--f") { Description = "Assumed number of Byzantine updates (krum, multi-krum, bulyan)" };
        var beta = new Option<double?>("--beta") { Description = "Fraction trimmed from each side (trimmed-mean; default 0.1)" };
        var m = new Option<int?>("--m") { Description = "Updates averaged by multi-krum (default n − f)" };
        var tau = new Option<double?>("--tau") { Description = "Clipping radius (centered-clipping)" };
        var iterations = new Option<int?>("--iterations") { Description = "Iterations (centered-clipping default 1, geometric-median default 10)" };
        var nu = new Option<double?>("--nu") { Description = "Smoothing ν (geometric-median; default 1e-6)" };
        var center = new Option<FileInfo?>("--center") { Description = "Starting centre v₀ as .npy (centered-clipping; default zero)" };
        var clipNorm = new Option<double?>("--clip-norm") { Description = "Pre-step: scale updates down to this L2 norm" };
        var mixing = new Option<int?>("--nnm") { Description = "Pre-step: nearest-neighbour mixing with this f" };
        var bucketing = new Option<int?>("--bucketing") { Description = "Pre-step: average seeded random buckets of this size" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for --bucketing", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var block = new Option<int>("--block") { Description = "Coordinates per block (multiple of 1024)", DefaultValueFactory = _ => 16384 };
        var budget = new Option<int>("--memory-mib") { Description = "Memory budget of the engine's buffers in MiB", DefaultValueFactory = _ => 256 };
        var contributions = new Option<bool>("--contributions") { Description = "Also report each input's contribution (docs/AGGREGATION.md, \"Contributions and credits\")" };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the aggregate (1-D float32 .npy)", Required = true };
        var inputs = new Argument<string[]>("INPUT") { Description = ".npy files (1-D float32/float16) or directories of them, in index order", Arity = ArgumentArity.OneOrMore };

        var command = new Command("aggregate", "Aggregate .npy updates with a robust rule and write the result as .npy")
        {
            rule, f, beta, m, tau, iterations, nu, center, clipNorm, mixing, bucketing, seed, threads, block, budget, contributions, output, inputs,
        };

        command.SetAction(parse =>
        {
            try
            {
                var ruleName = parse.GetValue(rule)!;
                var used = new HashSet<string>();
                T Use<T>(Option<T> option)
                {
                    used.Add(option.Name);
                    return parse.GetValue(option)!;
                }

                int RequireF() => Use(f) ?? throw new UsageException($"{ruleName} needs --f, the assumed number of Byzantine updates");
                AggregateBuffer? centerBuffer = null;
                AggregationRule chosen = ruleName switch
                {
                    "mean" => new MeanRule(),
                    "median" => new MedianRule(),
                    "trimmed-mean" => new TrimmedMeanRule(Use(beta) ?? 0.1),
                    "krum" => new KrumRule(RequireF()),
                    "multi-krum" => new MultiKrumRule(RequireF(), Use(m)),
                    "bulyan" => new BulyanRule(RequireF()),
                    "centered-clipping" => new CenteredClippingRule(
                        Use(tau) ?? throw new UsageException("centered-clipping needs --tau, the clipping radius"),
                        Use(iterations) ?? 1,
                        Use(center) is { } c ? centerBuffer = LoadCenter(c.FullName, ExpandInputs(parse.GetValue(inputs)!)) : null),
                    "geometric-median" => new GeometricMedianRule(Use(nu) ?? 1e-6, Use(iterations) ?? 10),
                    _ => throw new UsageException($"unknown rule {ruleName}"),
                };

                foreach (var option in new Option[] { f, beta, m, tau, iterations, nu, center })
                {
                    if (parse.GetResult(option) is { Implicit: false } && !used.Contains(option.Name))
                    {
                        throw new UsageException($"{option.Name} does not apply to {ruleName}");
                    }
                }

                var steps = new List<PreAggregationStep>();
                if (parse.GetValue(clipNorm) is { } maxNorm)
                {
                    steps.Add(new ClipNormStep(maxNorm));
                }

                if (parse.GetValue(mixing) is { } mixF)
                {
                    steps.Add(new NearestNeighbourMixingStep(mixF));
                }

                if (parse.GetValue(bucketing) is { } bucketSize)
                {
                    steps.Add(new BucketingStep(bucketSize, parse.GetValue(seed)));
                }
                else if (parse.GetResult(seed) is { Implicit: false })
                {
                    throw new UsageException("--seed applies only with --bucketing");
                }

                if (parse.GetValue(block) % 1024 != 0 || parse.GetValue(block) < 1024)
                {
                    throw new UsageException($"--block must be a positive multiple of 1024, got {parse.GetValue(block)}");
                }

                if (parse.GetValue(threads) < 1)
                {
                    throw new UsageException($"--threads must be at least 1, got {parse.GetValue(threads)}");
                }

                if (parse.GetValue(budget) < 1)
                {
                    throw new UsageException($"--memory-mib must be at least 1, got {parse.GetValue(budget)}");
                }

                var options = new AggregationOptions
                {
                    MaxDegreeOfParallelism = parse.GetValue(threads),
                    BlockCoordinates = parse.GetValue(block),
                    MemoryBudgetBytes = (long)parse.GetValue(budget) << 20,
                    ComputeContributions = parse.GetValue(contributions),
                };
                using (centerBuffer)
                {
                    return Run(ExpandInputs(parse.GetValue(inputs)!), new AggregationSettings(chosen, steps), options, parse.GetValue(output)!.FullName);
                }
            }
            catch (Exception ex) when (ex is UsageException or AggregationException or TensorFormatException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"fedagg aggregate: error: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    private static int Run(IReadOnlyList<string> paths, AggregationSettings settings, AggregationOptions options, string outputPath)
    {
        var stopwatch = Stopwatch.StartNew();
        using var source = NpyUpdateSource.Open(paths);
        var d = source.Length;
        var directory = Path.GetDirectoryName(outputPath);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            throw new UsageException($"the output directory {directory} does not exist");
        }

        // Written beside the target and renamed at the end: a failed run leaves no output file behind.
        var temporary = $"{outputPath}.tmp-{Environment.ProcessId}";
        AggregationResult result;
        string hash;
        try
        {
            using (var buffer = NpyAggregateBuffer.Create(temporary, d))
            {
                result = new AggregationEngine(options).Aggregate(source, settings, buffer);
                hash = HashOutput(buffer);
                buffer.Flush();
            }

            File.Move(temporary, outputPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        stopwatch.Stop();
        Console.Out.WriteLine(Report(settings, result, paths.Count, d, options, hash, stopwatch.Elapsed.TotalSeconds));
        return 0;
    }

    /// <summary>Loads the --center file, which must be as long as the updates and hold finite values only.</summary>
    private static AggregateBuffer LoadCenter(string path, IReadOnlyList<string> inputs)
    {
        using var array = MappedNpyArray.Open(path);
        using var first = MappedNpyArray.Open(inputs[0]);
        if (array.Length != first.Length)
        {
            throw new UsageException($"{path} (--center) has {array.Length} values but {inputs[0]} has {first.Length}");
        }

        var values = new float[array.Length];
        array.Read(0, values);
        var bad = Array.FindIndex(values, static v => !float.IsFinite(v));
        if (bad >= 0)
        {
            throw new UsageException($"{path} (--center) holds a non-finite value at index {bad}");
        }

        return AggregateBuffer.FromArray(values);
    }

    /// <summary>Files as given; directories contribute their *.npy files in ordinal file-name order.</summary>
    public static IReadOnlyList<string> ExpandInputs(IEnumerable<string> inputs)
    {
        var paths = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var files = Directory.GetFiles(input, "*.npy").Order(StringComparer.Ordinal).ToArray();
                if (files.Length == 0)
                {
                    throw new UsageException($"{input} holds no .npy files");
                }

                paths.AddRange(files);
            }
            else if (File.Exists(input))
            {
                paths.Add(input);
            }
            else
            {
                throw new UsageException($"{input}: no such file or directory");
            }
        }

        return paths;
    }

    private static string HashOutput(AggregateBuffer buffer)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var block = new float[1 << 16];
        for (long start = 0; start < buffer.Length; start += block.Length)
        {
            var length = (int)Math.Min(block.Length, buffer.Length - start);
            buffer.Read(start, block.AsSpan(0, length));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(block.AsSpan(0, length)));
        }

        return "0x" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string Report(AggregationSettings settings, AggregationResult result, int n, long d, AggregationOptions options, string hash, double seconds)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("rule", settings.Rule.Name);
            json.WriteStartObject("parameters");
            foreach (var (key, value) in settings.Rule.Parameters)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            json.WriteStartArray("preSteps");
            foreach (var step in settings.Steps)
            {
                json.WriteStartObject();
                json.WriteString("step", step.Name);
                foreach (var (key, value) in step.Parameters)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("n", n);
            json.WriteNumber("d", d);
            json.WriteNumber("aggregated", result.AggregatedCount);
            if (settings.Rule.Selects)
            {
                json.WriteStartArray("selected");
                foreach (var index in result.Selected)
                {
                    json.WriteNumberValue(index);
                }

                json.WriteEndArray();
                json.WriteStartArray("scores");
                foreach (var score in result.Scores)
                {
                    if (double.IsFinite(score))
                    {
                        json.WriteNumberValue(score);
                    }
                    else
                    {
                        json.WriteNullValue();
                    }
                }

                json.WriteEndArray();
            }

            if (options.ComputeContributions)
            {
                // One per input, in input order; shortest round-trip form, so a verifier reads back the same doubles.
                json.WriteStartArray("contributions");
                foreach (var contribution in result.Contributions)
                {
                    json.WriteNumberValue(contribution);
                }

                json.WriteEndArray();
            }

            json.WriteStartArray("excluded");
            foreach (var excluded in result.Excluded)
            {
                json.WriteStartObject();
                json.WriteNumber("index", excluded.Index);
                json.WriteString("input", excluded.Name);
                json.WriteString("reason", excluded.Reason);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("outputSha256", hash);
            json.WriteNumber("threads", options.MaxDegreeOfParallelism);
            json.WriteNumber("seconds", Math.Round(seconds, 6));
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}

/// <summary>Bad command-line input: reported as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
