using FedAgg.Aggregation.Tests.Support;
using FedAgg.Core.Tensors;
using FedAgg.TestKit.Aggregation;
using Xunit.Abstractions;

namespace FedAgg.Aggregation.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BoundedMemoryCollection
{
    public const string Name = "bounded memory (runs alone: it measures process-wide allocations)";
}

/// <summary>Eight 2M-parameter updates written once as .npy files (64 MiB), with the same updates in memory.</summary>
public sealed class NpyUpdatesFixture : IDisposable
{
    public const int Count = 8;
    public const int Length = 2 * 1024 * 1024;

    public NpyUpdatesFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("fedagg-bounded-");
        Updates = UpdateGenerator.Generate(2024, new UpdatePlan(Count, Length) { Huge = 1, SignFlipped = 1 }).Updates;
        Paths = [.. Updates.Select((u, i) => Path.Combine(Directory.FullName, $"update-{i}.npy"))];
        for (var i = 0; i < Count; i++)
        {
            NpyFile.WriteFloat32(Paths[i], Updates[i]);
        }
    }

    public DirectoryInfo Directory { get; }

    public IReadOnlyList<float[]> Updates { get; }

    public IReadOnlyList<string> Paths { get; }

    public void Dispose() => Directory.Delete(recursive: true);
}

/// <summary>
/// The engine's memory is O(n·block + n²), not O(d): aggregating file-backed updates several times larger than the
/// budget allocates less than twice the budget, and gives the in-memory aggregation's bits.
/// </summary>
[Collection(BoundedMemoryCollection.Name)]
public sealed class BoundedMemoryTests(NpyUpdatesFixture fixture, ITestOutputHelper log) : IClassFixture<NpyUpdatesFixture>
{
    private const long Budget = 4L << 20;

    public static TheoryData<string> RuleNames() => ["mean", "trimmed-mean", "krum", "geometric-median"];

    private static AggregationRule Rule(string name) => name switch
    {
        "mean" => new MeanRule(),
        "trimmed-mean" => new TrimmedMeanRule(0.25),
        "krum" => new KrumRule(2),
        "geometric-median" => new GeometricMedianRule(1e-6, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown rule"),
    };

    [Theory]
    [MemberData(nameof(RuleNames))]
    public void Aggregate_FileBackedUpdatesLargerThanBudget_AllocatesUnderTwiceBudgetAndMatchesInMemory(string ruleName)
    {
        var settings = new AggregationSettings(Rule(ruleName));
        var engine = new AggregationEngine(new AggregationOptions { MemoryBudgetBytes = Budget, MaxDegreeOfParallelism = 2 });

        // JIT the rule's paths on a small input, so that neither measure below counts the JIT; the full-size in-memory
        // run comes last, so that none of its buffers can be reused unseen by the measured calls.
        _ = engine.Aggregate([.. fixture.Updates.Select(u => u[..8192])], settings);

        using var source = NpyUpdateSource.Open(fixture.Paths);

        // 1. Managed allocations during the call.
        var managedPath = Path.Combine(fixture.Directory.FullName, $"aggregate-{ruleName}-1.npy");
        AggregationResult result;
        long allocated;
        using (var output = NpyAggregateBuffer.Create(managedPath, NpyUpdatesFixture.Length))
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            result = engine.Aggregate(source, settings, output);
            allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        // 2. Resident anonymous memory (native buffers included, mapped file pages not) during a second call.
        var nativePath = Path.Combine(fixture.Directory.FullName, $"aggregate-{ruleName}-2.npy");
        long? anonymousPeak = null;
        using (var output = NpyAggregateBuffer.Create(nativePath, NpyUpdatesFixture.Length))
        {
            if (AnonymousMemorySampler.IsSupported)
            {
                using var sampler = AnonymousMemorySampler.Start();
                engine.Aggregate(source, settings, output);
                anonymousPeak = sampler.StopAndGetPeakIncrease();
            }
            else
            {
                engine.Aggregate(source, settings, output);
            }
        }

        log.WriteLine($"{ruleName}: managed {allocated:N0} B, resident anonymous peak +{anonymousPeak:N0} B (budget {Budget:N0} B, inputs {(long)NpyUpdatesFixture.Count * NpyUpdatesFixture.Length * 4:N0} B on disk)");
        Assert.True(allocated < 2 * Budget, $"{ruleName}: {allocated:N0} bytes allocated on the managed heap; budget {Budget:N0}");
        if (anonymousPeak is { } peak)
        {
            Assert.True(peak < 2 * Budget, $"{ruleName}: resident anonymous memory grew by {peak:N0} bytes; budget {Budget:N0}");
        }

        var (expected, expectedResult) = engine.Aggregate(fixture.Updates, settings);
        BitAssert.Equal(expected, NpyFile.ReadFloat32(managedPath), ruleName + " (first file-backed call)");
        BitAssert.Equal(expected, NpyFile.ReadFloat32(nativePath), ruleName + " (second file-backed call)");
        Assert.Equal(expectedResult.Selected, result.Selected);
        BitAssert.Equal([.. expectedResult.Scores], [.. result.Scores], ruleName + " scores");
    }
}
