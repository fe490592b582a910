using FedAgg.TestKit.Aggregation;

namespace FedAgg.Benchmarks;

/// <summary>The benchmark inputs: the TestKit's seeded honest updates (a shared component plus noise) with f sign-flipped ones.</summary>
public static class BenchmarkData
{
    public static float[][] Generate(int n, long d, ulong seed) =>
        [.. UpdateGenerator.Generate(seed, new UpdatePlan(n, checked((int)d)) { SignFlipped = RuleCatalog.ByzantineCount(n) }).Updates];
}
