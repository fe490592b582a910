using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using FedAgg.Aggregation;

namespace FedAgg.Benchmarks;

/// <summary>
/// BenchmarkDotNet cases for allocation figures (<c>./bench.sh --bdn</c>): the engine on representative rules at
/// n = 100, d = 10⁶. The engine's working memory must stay O(n·block + n²), whatever d.
/// </summary>
[MemoryDiagnoser]
public class AggregationBenchmarks
{
    private const int Count = 100;
    private const int Length = 1_000_000;

    private float[][] _updates = [];
    private UpdateSource? _source;
    private AggregateBuffer? _output;
    private AggregationEngine? _engine;
    private AggregationSettings? _settings;

    [Params("mean", "median", "trimmed-mean", "krum")]
    public string Rule { get; set; } = "mean";

    [GlobalSetup]
    public void Setup()
    {
        _updates = BenchmarkData.Generate(Count, Length, seed: 1);
        _source = UpdateSource.FromArrays(_updates);
        _output = AggregateBuffer.Allocate(Length);
        _engine = new AggregationEngine();
        _settings = new AggregationSettings(RuleCatalog.Create(Rule, Count));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _source?.Dispose();
        _output?.Dispose();
    }

    [Benchmark]
    public AggregationResult Engine() => _engine!.Aggregate(_source!, _settings!, _output!);
}

/// <summary>The streaming floor beside <see cref="AggregationBenchmarks"/>: every update copied once into one d-length buffer, one thread.</summary>
[MemoryDiagnoser]
public class CopyBaselineBenchmarks
{
    private float[][] _updates = [];
    private float[] _destination = [];

    [GlobalSetup]
    public void Setup()
    {
        _updates = BenchmarkData.Generate(100, 1_000_000, seed: 1);
        _destination = new float[1_000_000];
    }

    [Benchmark]
    public float[] Copy()
    {
        foreach (var update in _updates)
        {
            update.AsSpan().CopyTo(_destination);
        }

        return _destination;
    }
}

/// <summary>In-process runs: the harness is started from a prebuilt Release assembly (./bench.sh), not rebuilt by BDN.</summary>
internal static class BdnConfig
{
    public static IConfig Create() =>
        ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(10))
            .WithArtifactsPath(Path.Combine("loadtests", "reports", "BenchmarkDotNet.Artifacts"));
}
