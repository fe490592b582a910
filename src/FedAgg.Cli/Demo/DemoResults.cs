namespace FedAgg.Cli.Demo;

/// <summary>One update the server refused, or the round left out.</summary>
internal sealed record DemoRejection(int Participant, bool Byzantine, string Status, string Reason);

/// <summary>Everything measured in one round.</summary>
internal sealed record DemoRoundResult
{
    public required ulong Round { get; init; }

    public required double Accuracy { get; init; }

    public required double Loss { get; init; }

    public required int Accepted { get; init; }

    public required int Submitted { get; init; }

    public required IReadOnlyList<DemoRejection> Rejected { get; init; }

    /// <summary>The Krum family's and Bulyan's selection, as participant indices (empty for other rules).</summary>
    public required IReadOnlyList<int> Selected { get; init; }

    /// <summary>How many of <see cref="Selected"/> are Byzantine.</summary>
    public int SelectedByzantine { get; init; }

    /// <summary>Σ contribution of Byzantine updates / Σ contribution of all accepted updates.</summary>
    public required double ByzantineContributionShare { get; init; }

    /// <summary>Credits the round paid Byzantine participants / all credits it paid.</summary>
    public required double ByzantineCreditShare { get; init; }

    public required string? AnchorTx { get; init; }

    public required string ModelHash { get; init; }

    public required string UpdatesRoot { get; init; }

    public required string CreditsRoot { get; init; }

    public required bool Verified { get; init; }

    public required string VerifyDetail { get; init; }

    /// <summary>Participants whose inclusion proof and anchor check passed, of those with a stored update.</summary>
    public required int InclusionPassed { get; init; }

    public required int InclusionChecked { get; init; }

    public required double TrainSeconds { get; init; }

    public required double SubmitSeconds { get; init; }

    public required double AggregateAnchorSeconds { get; init; }

    public required double VerifySeconds { get; init; }

    public required double EvaluateSeconds { get; init; }

    public required long SamplesTrained { get; init; }

    public required double TrainLoss { get; init; }

    /// <summary>The mean L2 norm of the honest updates.</summary>
    public required double HonestUpdateNorm { get; init; }

    /// <summary>The L2 norm of the aggregate (new model − old model).</summary>
    public required double AggregateNorm { get; init; }
}

/// <summary>A participant's totals over a run.</summary>
internal sealed record DemoParticipantResult(int Index, string PeerId, bool Byzantine, string Attack, string Address, string Credits, double CreditShare, int Accepted, int Rejected);

/// <summary>The credit claim at the end.</summary>
internal sealed record DemoClaimResult(int Participant, string Account, string Paid, string CumulativeAmount, string Transaction, ulong Block, string Balance);

/// <summary>One run: a rule against an attack.</summary>
internal sealed record DemoRunResult
{
    public required string TaskId { get; init; }

    public required string Rule { get; init; }

    public required string RuleDescription { get; init; }

    public required string Attack { get; init; }

    public required int Nodes { get; init; }

    public required int Byzantine { get; init; }

    public required int AssumedF { get; init; }

    public required IReadOnlyList<DemoRoundResult> Rounds { get; init; }

    public required IReadOnlyList<DemoParticipantResult> Participants { get; init; }

    public required double FinalAccuracy { get; init; }

    public required double ByzantineCreditShare { get; init; }

    public required bool AllVerified { get; init; }

    public required double Seconds { get; init; }

    public string? Error { get; init; }
}

/// <summary>What <c>fedagg demo</c> writes to results.json.</summary>
internal sealed record DemoResults
{
    public required string Command { get; init; }

    public required string StartedUtc { get; init; }

    public required IReadOnlyDictionary<string, object?> Settings { get; init; }

    public required IReadOnlyDictionary<string, object?> Machine { get; init; }

    public required IReadOnlyList<DemoRunResult> Runs { get; init; }

    public DemoClaimResult? Claim { get; init; }

    public required double TotalSeconds { get; init; }

    public required double SetupSeconds { get; init; }

    public required double SamplesPerSecondPerCore { get; init; }

    public required double MeanAggregateAnchorSeconds { get; init; }

    public required double MeanTrainSeconds { get; init; }

    public string? LedgerAddress { get; init; }

    public string? ChainRpc { get; init; }

    public string? DataDirectory { get; init; }
}
