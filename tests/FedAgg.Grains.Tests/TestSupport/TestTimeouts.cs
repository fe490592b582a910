namespace FedAgg.Grains.Tests.TestSupport;

public static class TestTimeouts
{
    /// <summary>
    /// Every async test's limit: a broken runtime must fail a test, not hang the run (grain calls wait on the fake
    /// clock, so their own response timeout never fires unless a test advances it).
    /// </summary>
    public const int Test = 30_000;
}
