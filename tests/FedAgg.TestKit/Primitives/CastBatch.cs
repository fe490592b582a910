using FedAgg.TestKit.Chain;

namespace FedAgg.TestKit.Primitives;

/// <summary>Runs many independent <c>cast</c> invocations a few at a time (each is a short process start) and returns their outputs in order.</summary>
public static class CastBatch
{
    /// <summary>Runs <c>cast</c> once per argument list; throws on the first failure with its stderr.</summary>
    public static string[] Run(IReadOnlyList<string[]> invocations, int parallelism = 4)
    {
        var outputs = new string[invocations.Count];
        Parallel.For(0, invocations.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, i => outputs[i] = Foundry.Cast(invocations[i]));
        return outputs;
    }

    /// <summary>Runs <c>cast</c> once per argument list and returns exit code, stdout and stderr of each, in order.</summary>
    public static (int ExitCode, string StandardOutput, string StandardError)[] RunRaw(IReadOnlyList<string[]> invocations, int parallelism = 4)
    {
        var results = new (int, string, string)[invocations.Count];
        Parallel.For(0, invocations.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, i => results[i] = Foundry.RunCast(invocations[i]));
        return results;
    }
}
