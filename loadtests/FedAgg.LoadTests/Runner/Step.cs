namespace FedAgg.LoadTests.Runner;

/// <summary>One named, measured action of a scenario.</summary>
/// <param name="Name">The step's name (its statistics are reported under it).</param>
/// <param name="Run">The action; exceptions count as failures named after the exception type.</param>
public sealed record Step(string Name, Func<StepContext, ValueTask<StepResult>> Run);

/// <summary>What a step execution knows about its iteration.</summary>
public sealed class StepContext
{
    internal StepContext(string scenarioName, long invocationNumber, int copyIndex, CancellationToken cancellationToken)
    {
        ScenarioName = scenarioName;
        InvocationNumber = invocationNumber;
        CopyIndex = copyIndex;
        CancellationToken = cancellationToken;
    }

    /// <summary>The scenario.</summary>
    public string ScenarioName { get; }

    /// <summary>The iteration's number within the scenario, from 0 (warm-up iterations included).</summary>
    public long InvocationNumber { get; }

    /// <summary>Under <see cref="LoadSimulation.KeepConstant"/>, the copy running the iteration (0..copies−1); otherwise −1.</summary>
    public int CopyIndex { get; }

    /// <summary>Whether the iteration belongs to the warm-up (its statistics are discarded).</summary>
    public bool IsWarmUp { get; internal set; }

    /// <summary>Cancelled when the run ends and its grace period has passed.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Values one step leaves for the next steps of the same iteration.</summary>
    public IDictionary<string, object?> Items { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);
}

/// <summary>
/// A scenario in NBomber's model: optional <see cref="Init"/> and <see cref="Clean"/>, steps run in order for every
/// iteration (a failed step ends its iteration), and load simulations that decide when iterations start.
/// </summary>
public sealed class Scenario
{
    /// <summary>Creates a scenario.</summary>
    /// <param name="name">The scenario's name.</param>
    /// <param name="steps">Its steps, in order (at least one).</param>
    public Scenario(string name, params Step[] steps)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Length == 0)
        {
            throw new ArgumentException("A scenario needs at least one step.", nameof(steps));
        }

        if (steps.Select(static s => s.Name).Distinct(StringComparer.Ordinal).Count() != steps.Length)
        {
            throw new ArgumentException("Step names must be distinct within a scenario.", nameof(steps));
        }

        Name = name;
        Steps = steps;
    }

    /// <summary>The scenario's name.</summary>
    public string Name { get; }

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<Step> Steps { get; }

    /// <summary>Runs once before the warm-up (connect peers, fetch the model); default none.</summary>
    public Func<CancellationToken, Task>? Init { get; init; }

    /// <summary>Runs once after the last iteration, even after a failure; default none.</summary>
    public Func<CancellationToken, Task>? Clean { get; init; }

    /// <summary>The load simulations, run one after another (default: keep 1 copy for 10 s).</summary>
    public IReadOnlyList<LoadSimulation> LoadSimulations { get; init; } = [LoadSimulation.KeepConstant(1, TimeSpan.FromSeconds(10))];

    /// <summary>The warm-up: the first simulation's load for this long, statistics discarded. Default zero.</summary>
    public TimeSpan WarmUp { get; init; }

    /// <summary>The most iterations in flight; an inject beyond it fails as <c>overloaded</c>. Default 1024.</summary>
    public int MaxInFlight { get; init; } = 1024;

    /// <summary>The most measured iterations started (warm-up excluded); null: no limit but the simulations' duration.</summary>
    public long? MaxIterations { get; init; }

    /// <summary>How long in-flight iterations may finish after the last simulation ends; then they are cancelled. Default 10 s.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(10);
}
