using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FedAgg.Aggregation;
using FedAgg.Aggregation.Credits;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;

namespace FedAgg.Verification;

/// <summary>What a round's aggregation produced.</summary>
/// <param name="Aggregation">The engine's report (selection, scores, exclusions, contributions per accepted update).</param>
/// <param name="Model">The new model vector.</param>
/// <param name="State">The outer optimizer's state after the round, one buffer per <c>StateNames</c> entry.</param>
/// <param name="ModelHash">SHA-256 of <paramref name="Model"/> as float32 little-endian.</param>
/// <param name="OptimizerStateHash">SHA-256 of the state buffers concatenated, or null for an optimizer without state.</param>
/// <param name="Credits">This round's credits per accepted update (<c>CreditSplit.Distribute(creditsPerRound, contributions)</c>).</param>
public sealed record RoundComputationResult(
    AggregationResult Aggregation,
    float[] Model,
    IReadOnlyList<float[]> State,
    Bytes32 ModelHash,
    Bytes32? OptimizerStateHash,
    IReadOnlyList<BigInteger> Credits)
{
    /// <summary>
    /// The Krum score of accepted update <paramref name="input"/> as the manifest publishes it: the engine's first-pass
    /// score when the rule reports scores and no bucketing ran (scores then index buckets), finite; otherwise null.
    /// </summary>
    public double? ScoreOf(int input, TaskSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.PreSteps.All(static s => s.Name != "bucketing") && input < Aggregation.Scores.Count && double.IsFinite(Aggregation.Scores[input])
            ? Aggregation.Scores[input]
            : null;
    }
}

/// <summary>
/// The computations of a round that the server performs and every verifier repeats bit for bit (docs/PROTOCOL.md,
/// "Round manifest", rules 4–6): the aggregation over the accepted updates in manifest order, the outer optimizer on the
/// parent model and the previous state, the hashes, the credit split, the cumulative credits and the two roots.
/// </summary>
/// <remarks>The model, its state and the aggregate are held in memory (O(d) floats each); updates stream block by block.</remarks>
public static class RoundComputation
{
    /// <summary>Aggregates <paramref name="accepted"/> and applies the outer optimizer.</summary>
    /// <param name="settings">The task's settings (validated).</param>
    /// <param name="accepted">The accepted updates in manifest order.</param>
    /// <param name="parentModel">The parent model vector (not modified).</param>
    /// <param name="previousState">The optimizer's state after the previous round; null for zeros (round 1).</param>
    /// <param name="options">Engine options (threads, blocks; they never change a bit); contributions are always computed.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <exception cref="AggregationException">The rule cannot run on these updates.</exception>
    /// <exception cref="ArgumentException">A length or the settings are wrong.</exception>
    public static RoundComputationResult Run(
        TaskSettings settings, UpdateSource accepted, ReadOnlySpan<float> parentModel, IReadOnlyList<float[]>? previousState,
        AggregationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(accepted);
        var d = settings.Model.NumElements;
        if (parentModel.Length != d || accepted.Length != d)
        {
            throw new ArgumentException($"the model has {d} elements, but the parent model has {parentModel.Length} and the updates {accepted.Length}");
        }

        var engineOptions = new AggregationOptions
        {
            BlockCoordinates = options?.BlockCoordinates ?? new AggregationOptions().BlockCoordinates,
            MaxDegreeOfParallelism = options?.MaxDegreeOfParallelism ?? Environment.ProcessorCount,
            MemoryBudgetBytes = options?.MemoryBudgetBytes ?? new AggregationOptions().MemoryBudgetBytes,
            ComputeContributions = true,
        };
        var delta = new float[d];
        var result = new AggregationEngine(engineOptions).Aggregate(accepted, settings.ToAggregationSettings(), AggregateBuffer.FromArray(delta), cancellationToken);

        var optimizer = settings.ToOuterOptimizer();
        var model = parentModel.ToArray();
        var state = new float[optimizer.StateNames.Count][];
        for (var i = 0; i < state.Length; i++)
        {
            if (previousState is not null && (previousState.Count != state.Length || previousState[i].Length != d))
            {
                throw new ArgumentException($"{optimizer.Name} keeps {state.Length} state buffer(s) of {d} elements", nameof(previousState));
            }

            state[i] = previousState is null ? new float[d] : (float[])previousState[i].Clone();
        }

        optimizer.Apply(AggregateBuffer.FromArray(model), AggregateBuffer.FromArray(delta), [.. state.Select(AggregateBuffer.FromArray)], cancellationToken);
        var credits = CreditSplit.Distribute(settings.CreditsPerRound, result.Contributions);
        return new RoundComputationResult(result, model, state, HashFloat32(model), state.Length == 0 ? null : HashState(state), credits);
    }

    /// <summary>SHA-256 of <paramref name="values"/> as float32 little-endian (the protocol's model hash).</summary>
    public static Bytes32 HashFloat32(ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            return new Bytes32(SHA256.HashData(MemoryMarshal.AsBytes(values)));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> bytes = stackalloc byte[4];
        foreach (var value in values)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            hash.AppendData(bytes);
        }

        return new Bytes32(hash.GetHashAndReset());
    }

    /// <summary>SHA-256 of the state buffers as float32 little-endian, concatenated in order (the optimizer state hash).</summary>
    public static Bytes32 HashState(IReadOnlyList<float[]> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> bytes = stackalloc byte[4];
        foreach (var buffer in state)
        {
            if (BitConverter.IsLittleEndian)
            {
                hash.AppendData(MemoryMarshal.AsBytes(buffer.AsSpan()));
            }
            else
            {
                foreach (var value in buffer)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
                    hash.AppendData(bytes);
                }
            }
        }

        return new Bytes32(hash.GetHashAndReset());
    }

    /// <summary>
    /// The cumulative credits after a round: <paramref name="previous"/> (the previous round's list; empty in round 1)
    /// plus each amount <paramref name="earned"/> to its address, ascending by address (bytes compared unsigned),
    /// accounts with a cumulative amount of 0 left out.
    /// </summary>
    public static IReadOnlyList<RoundCredit> AccumulateCredits(IReadOnlyList<RoundCredit> previous, IEnumerable<(ReadOnlyMemory<byte> Account, BigInteger Amount)> earned)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(earned);
        var totals = new SortedDictionary<string, (ReadOnlyMemory<byte> Account, BigInteger Amount)>(StringComparer.Ordinal);
        foreach (var credit in previous)
        {
            Add(credit.Account, credit.CumulativeAmount);
        }

        foreach (var (account, amount) in earned)
        {
            Add(account, amount);
        }

        return [.. totals.Values.Where(static t => t.Amount.Sign > 0).Select(static t => new RoundCredit(t.Account, t.Amount))];

        void Add(ReadOnlyMemory<byte> account, BigInteger amount)
        {
            if (account.Length != 20)
            {
                throw new ArgumentException($"an account is 20 bytes, not {account.Length}");
            }

            // Lowercase hex sorts like the unsigned bytes.
            var key = Convert.ToHexStringLower(account.Span);
            totals[key] = totals.TryGetValue(key, out var existing) ? (existing.Account, existing.Amount + amount) : (account.ToArray(), amount);
        }
    }

    /// <summary><c>StandardMerkleTree.ForUpdates</c> over the accepted updates' (updateId, signerPublicKey); zero when none is accepted.</summary>
    public static Bytes32 ComputeUpdatesRoot(IEnumerable<RoundUpdate> updates)
    {
        var accepted = updates.Where(static u => u.Accepted).Select(static u => (u.UpdateId, u.SignerPublicKey)).ToList();
        return accepted.Count == 0 ? Bytes32.Zero : StandardMerkleTree.ForUpdates(accepted).Root;
    }

    /// <summary><c>StandardMerkleTree.ForCredits</c> over the cumulative credits; zero when there are none.</summary>
    public static Bytes32 ComputeCreditsRoot(IReadOnlyList<RoundCredit> credits)
    {
        ArgumentNullException.ThrowIfNull(credits);
        return credits.Count == 0 ? Bytes32.Zero : StandardMerkleTree.ForCredits(credits.Select(static c => (c.Account, c.CumulativeAmount))).Root;
    }
}
