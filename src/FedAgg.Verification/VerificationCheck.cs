namespace FedAgg.Verification;

/// <summary>The outcome of one verification check.</summary>
public enum CheckOutcome
{
    /// <summary>The check ran and held.</summary>
    Pass,

    /// <summary>The check ran and failed.</summary>
    Fail,

    /// <summary>The check could not run because a check it depends on failed (the detail names it); the round does not verify.</summary>
    Skip,
}

/// <summary>One check of a round's verification.</summary>
/// <param name="Name">A stable name, e.g. <c>update[2].signature</c>, <c>modelHash</c>, <c>chain.roundCommitment</c>.</param>
/// <param name="Outcome">Pass, fail, or skip.</param>
/// <param name="Detail">What was compared, or why it failed.</param>
public sealed record VerificationCheck(string Name, CheckOutcome Outcome, string Detail)
{
    /// <summary>Whether the check ran and held.</summary>
    public bool Passed => Outcome == CheckOutcome.Pass;

    internal static VerificationCheck Pass(string name, string detail) => new(name, CheckOutcome.Pass, detail);

    internal static VerificationCheck Fail(string name, string detail) => new(name, CheckOutcome.Fail, detail);

    internal static VerificationCheck Skip(string name, string detail) => new(name, CheckOutcome.Skip, detail);

    internal static VerificationCheck Of(string name, bool passed, string passDetail, string failDetail) =>
        passed ? Pass(name, passDetail) : Fail(name, failDetail);
}
