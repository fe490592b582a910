using FedAgg.Core.Updates;
using FedAgg.Grains.Runtime;

namespace FedAgg.Server.Grains;

/// <summary>
/// A participant (key: its peer id text): admission per the task's policy, bans, its bound Ethereum address, and a
/// per-peer submission rate limit (in memory: it restarts with the activation).
/// </summary>
public interface IParticipantGrain : IGrainWithStringKey
{
    /// <summary>Whether the peer may submit to the task now; counts the attempt against the rate limit when it may.</summary>
    /// <param name="request">The task, its policy and the rate limit.</param>
    /// <returns><see cref="SubmissionCheck.Passed"/>, or <see cref="SubmitStatus.NotAdmitted"/> / <see cref="SubmitStatus.RateLimited"/>.</returns>
    Task<SubmissionCheck> AdmitAsync(AdmissionRequest request);

    /// <summary>Bans the peer from one task, or from every task when <paramref name="taskId"/> is null.</summary>
    /// <param name="taskId">The task, or null for all.</param>
    /// <param name="reason">Why (kept, and told to the peer).</param>
    /// <returns>A task that completes when the ban is durable.</returns>
    Task BanAsync(string? taskId, string reason);

    /// <summary>Lifts a ban from <see cref="BanAsync"/> (the same <paramref name="taskId"/>).</summary>
    /// <param name="taskId">The task, or null for the ban from every task.</param>
    /// <returns>A task that completes when the change is durable.</returns>
    Task UnbanAsync(string? taskId);

    /// <summary>Puts the peer on a task's allowlist (policy <c>allowlist</c>), or takes it off.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="allowed">Whether the peer is on the list.</param>
    /// <returns>A task that completes when the change is durable.</returns>
    Task SetAllowedAsync(string taskId, bool allowed);

    /// <summary>Binds an Ethereum address after checking the peer's signature over the binding bytes (policy <c>registered</c>).</summary>
    /// <param name="binding">The binding.</param>
    /// <returns>True when the signature verified and the binding is stored; false otherwise (nothing changes).</returns>
    Task<bool> BindAddressAsync(AddressBindingRecord binding);

    /// <summary>Records what a published round paid this participant (idempotent per task and round).</summary>
    /// <param name="credit">The round's credit.</param>
    /// <returns>A task that completes when the history is durable.</returns>
    Task RecordCreditAsync(CreditRecord credit);

    /// <summary>The participant's status.</summary>
    /// <returns>A snapshot.</returns>
    [ReadOnly]
    Task<ParticipantStatus> GetStatusAsync();
}
