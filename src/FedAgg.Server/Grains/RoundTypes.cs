namespace FedAgg.Server.Grains;

/// <summary>Where a round is in its life.</summary>
public enum RoundPhase
{
    /// <summary>Not opened yet (the grain has no state).</summary>
    NotOpened,

    /// <summary>Accepting updates.</summary>
    Open,

    /// <summary>No new submissions are let in; updates already being received may still land (and will be recorded).</summary>
    Closing,

    /// <summary>Closed: the set of accepted updates is final (the store's journal may still add ones received before the close, see <see cref="IRoundGrain.RecordAsync"/>).</summary>
    Closed,
}

/// <summary>How a round opens.</summary>
/// <param name="BaseModelHash">The model updates of this round must be computed from (0x-hex).</param>
/// <param name="DeadlineUnixMs">When the round closes by itself (Unix ms).</param>
/// <param name="MinParticipants">The task's minimum (recorded for the close hook; aggregation decides what too few means).</param>
/// <param name="MaxParticipants">The round closes once it has this many accepted updates.</param>
public sealed record RoundOpening(string BaseModelHash, long DeadlineUnixMs, int MinParticipants, int MaxParticipants);

/// <summary>The metadata of an accepted (durably stored and receipted) update; its bytes stay in the update store.</summary>
/// <param name="UpdateId">The update id (0x-hex).</param>
/// <param name="PeerId">The signer's peer id.</param>
/// <param name="Sequence">Its position in the round's journal (from 1).</param>
/// <param name="PayloadSha256">The payload's SHA-256 (0x-hex).</param>
/// <param name="ReceivedUnixMs">When the server received it (the receipt's time).</param>
/// <param name="PayloadBytes">The payload's length.</param>
public sealed record AcceptedUpdate(string UpdateId, string PeerId, ulong Sequence, string PayloadSha256, long ReceivedUnixMs, long PayloadBytes);

/// <summary>A snapshot of a round.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="Round">The round.</param>
/// <param name="Phase">Where it is.</param>
/// <param name="BaseModelHash">The model its updates start from (0x-hex; empty before it opens).</param>
/// <param name="OpenedUnixMs">When it opened.</param>
/// <param name="DeadlineUnixMs">When it closes by itself.</param>
/// <param name="MinParticipants">The task's minimum participants.</param>
/// <param name="MaxParticipants">The round closes at this many accepted updates.</param>
/// <param name="Pending">Updates admitted and being received right now (in memory only).</param>
/// <param name="Updates">The accepted updates in journal order.</param>
/// <param name="CloseReason">Why it closed (<c>max participants</c>, <c>deadline</c>, or the coordinator's reason); null while open.</param>
/// <param name="ClosedUnixMs">When it closed (0 while open).</param>
public sealed record RoundStatus(
    string TaskId,
    ulong Round,
    RoundPhase Phase,
    string BaseModelHash,
    long OpenedUnixMs,
    long DeadlineUnixMs,
    int MinParticipants,
    int MaxParticipants,
    int Pending,
    IReadOnlyList<AcceptedUpdate> Updates,
    string? CloseReason,
    long ClosedUnixMs);

/// <summary>The persistent state of a <see cref="RoundGrain"/> (JSON, camelCase).</summary>
public sealed class RoundState
{
    /// <summary>See <see cref="RoundStatus.Phase"/>.</summary>
    public RoundPhase Phase { get; set; }

    /// <summary>See <see cref="RoundStatus.BaseModelHash"/>.</summary>
    public string BaseModelHash { get; set; } = "";

    /// <summary>See <see cref="RoundStatus.OpenedUnixMs"/>.</summary>
    public long OpenedUnixMs { get; set; }

    /// <summary>See <see cref="RoundStatus.DeadlineUnixMs"/>.</summary>
    public long DeadlineUnixMs { get; set; }

    /// <summary>See <see cref="RoundStatus.MinParticipants"/>.</summary>
    public int MinParticipants { get; set; }

    /// <summary>See <see cref="RoundStatus.MaxParticipants"/>.</summary>
    public int MaxParticipants { get; set; }

    /// <summary>See <see cref="RoundStatus.Updates"/>: in memory only, rebuilt from the update store's journal at activation.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public List<AcceptedUpdate> Updates { get; set; } = [];

    /// <summary>See <see cref="RoundStatus.CloseReason"/>.</summary>
    public string? CloseReason { get; set; }

    /// <summary>See <see cref="RoundStatus.ClosedUnixMs"/>.</summary>
    public long ClosedUnixMs { get; set; }

    /// <summary>Whether the <see cref="IRoundCloseHandler"/> finished for this round.</summary>
    public bool CloseHandled { get; set; }
}

/// <summary>
/// What runs when a round closes: the hook where aggregation, the manifest and anchoring go (not in this slice; the
/// default only logs). Called inside the round grain's turn, once per round, after the closed state is durable; a
/// restart calls it again for a round that closed but whose hook did not finish, so it must be idempotent. It runs
/// inside the round's turn (possibly while the task grain waits on the round, e.g. during its activation), so it must
/// not call back into the task grain or this round synchronously (the runtime would throw DeadlockException): long work
/// (aggregation, anchoring) should be queued and report back through its own grain calls.
/// </summary>
public interface IRoundCloseHandler
{
    /// <summary>The round <paramref name="status"/> is closed with its final set of updates.</summary>
    /// <param name="status">The closed round.</param>
    /// <param name="cancellationToken">Cancelled when the server stops.</param>
    /// <returns>A task that completes when the close work is done (or handed off).</returns>
    Task OnRoundClosedAsync(RoundStatus status, CancellationToken cancellationToken);
}
