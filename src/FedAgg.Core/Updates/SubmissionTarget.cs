namespace FedAgg.Core.Updates;

/// <summary>
/// What the server expects of an update to one task right now: its chain binding, the model's shape, and the open round.
/// The server's task state (grains) produces it; the verifier only reads it.
/// </summary>
public sealed record SubmissionTarget
{
    /// <summary>The task's ID.</summary>
    public required string TaskId { get; init; }

    /// <summary>The chain ID updates must name (0 without a chain).</summary>
    public required ulong ChainId { get; init; }

    /// <summary>The ledger address updates must name (20 bytes; zeros without a chain).</summary>
    public required ReadOnlyMemory<byte> Ledger { get; init; }

    /// <summary>The codec the task's updates use.</summary>
    public required PayloadCodec Codec { get; init; }

    /// <summary>The number of elements in the task's model (and so in every update).</summary>
    public required ulong NumElements { get; init; }

    /// <summary>The round accepting updates, or <c>null</c> when none is open.</summary>
    public ulong? OpenRound { get; init; }

    /// <summary>The model hash the open round's updates must be computed from (32 bytes).</summary>
    public ReadOnlyMemory<byte> OpenRoundBaseModelHash { get; init; }

    /// <summary>The largest payload the server takes for this task, in bytes.</summary>
    public required long MaxPayloadBytes { get; init; }
}

/// <summary>Finds the <see cref="SubmissionTarget"/> of a task.</summary>
public interface ISubmissionTargets
{
    /// <summary>The task's current target, or <c>null</c> when the task does not exist.</summary>
    SubmissionTarget? Find(string taskId);
}
