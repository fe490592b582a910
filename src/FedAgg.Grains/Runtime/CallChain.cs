namespace FedAgg.Grains.Runtime;

/// <summary>
/// The grain requests the current code runs on behalf of, innermost first (flows with the async context). A request
/// to an activation that appears here, whose request is still running, could never start: that is the deadlock the
/// runtime reports instead of hanging.
/// </summary>
internal sealed class CallChain
{
    private static readonly AsyncLocal<CallChain?> CurrentChain = new();

    public CallChain(GrainActivation activation, WorkItem item, CallChain? parent)
    {
        Activation = activation;
        Item = item;
        Parent = parent;
    }

    public static CallChain? Current
    {
        get => CurrentChain.Value;
        set => CurrentChain.Value = value;
    }

    public GrainActivation Activation { get; }

    public WorkItem Item { get; }

    public CallChain? Parent { get; }

    public CallChain? Find(GrainActivation activation)
    {
        for (var link = this; link is not null; link = link.Parent)
        {
            if (ReferenceEquals(link.Activation, activation))
            {
                return link;
            }
        }

        return null;
    }

    /// <summary>The grains of the chain, outermost first.</summary>
    public List<GrainId> ToList()
    {
        var ids = new List<GrainId>();
        for (var link = this; link is not null; link = link.Parent)
        {
            ids.Add(link.Activation.GrainId);
        }

        ids.Reverse();
        return ids;
    }
}
