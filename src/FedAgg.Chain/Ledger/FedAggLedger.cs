using System.Numerics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using FedAgg.Chain.Abi;
using FedAgg.Chain.Rpc;
using FedAgg.Chain.Sending;
using FedAgg.Core.Merkle;

namespace FedAgg.Chain.Ledger;

/// <summary>
/// A typed binding for the FedAggLedger contract (contracts/src/FedAggLedger.sol; ABI and bytecode from the committed
/// artifact embedded in this assembly): deployment, task registration, round anchoring, claims, views and event
/// queries. Reverts come back as <see cref="ChainException"/> whose <see cref="ChainException.RevertReason"/> names the
/// contract's custom error with its arguments, e.g. <c>RoundOutOfOrder(expected: 3, got: 5)</c>.
/// </summary>
public sealed class FedAggLedger
{
    private static readonly Lazy<(ContractAbi Abi, byte[] Bytecode)> Artifact = new(LoadArtifact);

    private readonly EthereumRpcClient _rpc;

    /// <summary>Binds to the ledger deployed at <paramref name="address"/>.</summary>
    public FedAggLedger(EthereumRpcClient rpc, EthereumAddress address)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        _rpc = rpc;
        Address = address;
    }

    /// <summary>The contract's ABI.</summary>
    public static ContractAbi Abi => Artifact.Value.Abi;

    /// <summary>The contract's creation code (without constructor arguments).</summary>
    public static ReadOnlyMemory<byte> CreationBytecode => Artifact.Value.Bytecode;

    /// <summary><c>keccak256("ANCHOR_ROLE")</c>: the aggregation server's role.</summary>
    public static Bytes32 AnchorRole { get; } = new(Keccak256.Hash("ANCHOR_ROLE"u8));

    /// <summary><c>keccak256("COORDINATOR_ROLE")</c>: who registers tasks.</summary>
    public static Bytes32 CoordinatorRole { get; } = new(Keccak256.Hash("COORDINATOR_ROLE"u8));

    /// <summary>OpenZeppelin's <c>DEFAULT_ADMIN_ROLE</c> (zero): grants roles and pauses.</summary>
    public static Bytes32 AdminRole => Bytes32.Zero;

    /// <summary>The contract's address.</summary>
    public EthereumAddress Address { get; }

    /// <summary>The task key the ledger uses for a task id: <c>keccak256(bytes(taskId))</c> over its UTF-8 bytes.</summary>
    public static Bytes32 TaskKey(string taskId)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        return new Bytes32(Keccak256.Hash(Encoding.UTF8.GetBytes(taskId)));
    }

    /// <summary>Deploys a new ledger with the given role holders and waits for its confirmation.</summary>
    public static async Task<(FedAggLedger Ledger, TransactionReceipt Receipt)> DeployAsync(
        TransactionSender sender,
        EthereumAddress admin,
        EthereumAddress anchor,
        EthereumAddress coordinator,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        var data = Abi.Constructor.EncodeDeployment(CreationBytecode.Span, admin, anchor, coordinator);
        var receipt = await SendDecoratedAsync(sender, new TransactionRequest(null, data), cancellationToken).ConfigureAwait(false);
        var address = receipt.ContractAddress ?? throw new ChainException($"The deployment {receipt.TransactionHash} created no contract.");
        return (new FedAggLedger(sender.Rpc, address), receipt);
    }

    /// <summary>Registers a task (COORDINATOR_ROLE); claims against a new credits root wait <paramref name="claimDelaySeconds"/>.</summary>
    public Task<TransactionReceipt> RegisterTaskAsync(
        TransactionSender sender, Bytes32 taskKey, Bytes32 settingsHash, Bytes32 initialModelHash, ulong claimDelaySeconds, CancellationToken cancellationToken) =>
        claimDelaySeconds == 0
            ? SendAsync(sender, "registerTask(bytes32,bytes32,bytes32)", cancellationToken, taskKey, settingsHash, initialModelHash)
            : SendAsync(sender, "registerTask(bytes32,bytes32,bytes32,uint64)", cancellationToken, taskKey, settingsHash, initialModelHash, claimDelaySeconds);

    /// <summary>Anchors a round (ANCHOR_ROLE); the ledger checks the round follows the last one and the parent is its latest model.</summary>
    public Task<TransactionReceipt> AnchorRoundAsync(TransactionSender sender, RoundAnchor anchor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        return SendAsync(
            sender,
            "anchorRound",
            cancellationToken,
            anchor.TaskKey,
            anchor.Round,
            anchor.ParentModelHash,
            anchor.ModelHash,
            anchor.UpdatesRoot,
            anchor.CreditsRoot,
            anchor.SettingsHash,
            anchor.AcceptedCount);
    }

    /// <summary>Claims <paramref name="account"/>'s credits up to <paramref name="cumulativeAmount"/> with a proof into the claimable credits root (anyone may send it).</summary>
    public Task<TransactionReceipt> ClaimAsync(
        TransactionSender sender, Bytes32 taskKey, EthereumAddress account, BigInteger cumulativeAmount, IReadOnlyList<Bytes32> proof, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proof);
        return SendAsync(sender, "claim", cancellationToken, taskKey, account, cumulativeAmount, proof.Select(node => (object?)node).ToArray());
    }

    /// <summary>Pauses registration, anchoring and claims (admin).</summary>
    public Task<TransactionReceipt> PauseAsync(TransactionSender sender, CancellationToken cancellationToken) => SendAsync(sender, "pause", cancellationToken);

    /// <summary>Ends a pause (admin).</summary>
    public Task<TransactionReceipt> UnpauseAsync(TransactionSender sender, CancellationToken cancellationToken) => SendAsync(sender, "unpause", cancellationToken);

    /// <summary>Grants <paramref name="role"/> to <paramref name="account"/> (the role's admin).</summary>
    public Task<TransactionReceipt> GrantRoleAsync(TransactionSender sender, Bytes32 role, EthereumAddress account, CancellationToken cancellationToken) =>
        SendAsync(sender, "grantRole", cancellationToken, role, account);

    /// <summary>The last anchored round of the task (0 before the first).</summary>
    public async Task<ulong> LastRoundAsync(Bytes32 taskKey, CancellationToken cancellationToken) =>
        (await CallAsync("lastRound", null, cancellationToken, taskKey).ConfigureAwait(false)).Get<ulong>(0);

    /// <summary>The stored commitment of a round (zero if not anchored).</summary>
    public async Task<Bytes32> RoundCommitmentAsync(Bytes32 taskKey, ulong round, CancellationToken cancellationToken) =>
        (await CallAsync("roundCommitment", null, cancellationToken, taskKey, round).ConfigureAwait(false)).Get<Bytes32>(0);

    /// <summary>The task's latest anchored model hash (the initial model before round 1).</summary>
    public async Task<Bytes32> LatestModelHashAsync(Bytes32 taskKey, CancellationToken cancellationToken) =>
        (await CallAsync("latestModelHash", null, cancellationToken, taskKey).ConfigureAwait(false)).Get<Bytes32>(0);

    /// <summary>The task's latest anchored credits root.</summary>
    public async Task<Bytes32> CreditsRootAsync(Bytes32 taskKey, CancellationToken cancellationToken) =>
        (await CallAsync("creditsRoot", null, cancellationToken, taskKey).ConfigureAwait(false)).Get<Bytes32>(0);

    /// <summary>The root claims are verified against now (the latest, unless it is still in its claim delay).</summary>
    public async Task<Bytes32> ClaimableCreditsRootAsync(Bytes32 taskKey, CancellationToken cancellationToken) =>
        (await CallAsync("claimableCreditsRoot", null, cancellationToken, taskKey).ConfigureAwait(false)).Get<Bytes32>(0);

    /// <summary>What <paramref name="account"/> has claimed in all for the task.</summary>
    public async Task<BigInteger> ClaimedAsync(Bytes32 taskKey, EthereumAddress account, CancellationToken cancellationToken) =>
        (await CallAsync("claimed", null, cancellationToken, taskKey, account).ConfigureAwait(false)).Get<BigInteger>(0);

    /// <summary>The account's non-transferable credit balance over all tasks.</summary>
    public async Task<BigInteger> CreditsAsync(EthereumAddress account, CancellationToken cancellationToken) =>
        (await CallAsync("credits", null, cancellationToken, account).ConfigureAwait(false)).Get<BigInteger>(0);

    /// <summary>Whether the ledger is paused.</summary>
    public async Task<bool> PausedAsync(CancellationToken cancellationToken) =>
        (await CallAsync("paused", null, cancellationToken).ConfigureAwait(false)).Get<bool>(0);

    /// <summary>Whether <paramref name="account"/> holds <paramref name="role"/>.</summary>
    public async Task<bool> HasRoleAsync(Bytes32 role, EthereumAddress account, CancellationToken cancellationToken) =>
        (await CallAsync("hasRole", null, cancellationToken, role, account).ConfigureAwait(false)).Get<bool>(0);

    /// <summary>Everything the ledger holds about a task, read at one block (the latest unless <paramref name="block"/> is given).</summary>
    public async Task<LedgerTaskState> GetTaskAsync(Bytes32 taskKey, CancellationToken cancellationToken, ulong? block = null)
    {
        block ??= await _rpc.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var info = await CallAsync("taskInfo", block, cancellationToken, taskKey).ConfigureAwait(false);
        var claimable = (await CallAsync("claimableCreditsRoot", block, cancellationToken, taskKey).ConfigureAwait(false)).Get<Bytes32>(0);
        var claimableAt = (await CallAsync("claimableAt", block, cancellationToken, taskKey).ConfigureAwait(false)).Get<ulong>(0);
        return new LedgerTaskState(
            taskKey,
            info.Get<ulong>("registeredAt") != 0,
            info.Get<ulong>("lastRound_"),
            info.Get<Bytes32>("settingsHash"),
            info.Get<Bytes32>("latestModelHash_"),
            info.Get<Bytes32>("creditsRoot_"),
            claimable,
            claimableAt,
            info.Get<ulong>("claimDelay"));
    }

    /// <summary>The task's <c>RoundAnchored</c> events from <paramref name="fromBlock"/> on, in chain order.</summary>
    public async Task<IReadOnlyList<RoundAnchoredEvent>> GetRoundAnchoredEventsAsync(
        Bytes32 taskKey, ulong fromBlock, CancellationToken cancellationToken, ulong? round = null)
    {
        var anchored = Abi.GetEvent("RoundAnchored");
        Bytes32? roundTopic = round is { } r ? RoundTopic(r) : null;
        var logs = await _rpc.GetLogsAsync(new LogFilter(Address, [anchored.Topic0, taskKey, roundTopic], fromBlock), cancellationToken).ConfigureAwait(false);
        var events = new List<RoundAnchoredEvent>(logs.Count);
        foreach (var log in logs)
        {
            if (log.Removed)
            {
                continue;
            }

            var values = anchored.Decode(log.Topics, log.Data);
            events.Add(new RoundAnchoredEvent(
                new RoundAnchor(
                    values.Get<Bytes32>("taskKey"),
                    values.Get<ulong>("round"),
                    values.Get<Bytes32>("parentModelHash"),
                    values.Get<Bytes32>("modelHash"),
                    values.Get<Bytes32>("updatesRoot"),
                    values.Get<Bytes32>("creditsRoot"),
                    values.Get<Bytes32>("settingsHash"),
                    values.Get<uint>("acceptedCount")),
                log.BlockNumber,
                log.TransactionHash));
        }

        return events;
    }

    /// <summary>The task's <c>CreditsClaimed</c> events from <paramref name="fromBlock"/> on, optionally for one account.</summary>
    public async Task<IReadOnlyList<CreditsClaimedEvent>> GetCreditsClaimedEventsAsync(
        Bytes32 taskKey, ulong fromBlock, CancellationToken cancellationToken, EthereumAddress? account = null)
    {
        var claimedEvent = Abi.GetEvent("CreditsClaimed");
        Bytes32? accountTopic = account is { } a ? AddressTopic(a) : null;
        var logs = await _rpc.GetLogsAsync(new LogFilter(Address, [claimedEvent.Topic0, taskKey, accountTopic], fromBlock), cancellationToken).ConfigureAwait(false);
        var events = new List<CreditsClaimedEvent>(logs.Count);
        foreach (var log in logs.Where(l => !l.Removed))
        {
            var values = claimedEvent.Decode(log.Topics, log.Data);
            events.Add(new CreditsClaimedEvent(
                values.Get<Bytes32>("taskKey"),
                values.Get<EthereumAddress>("account"),
                values.Get<BigInteger>("amount"),
                values.Get<BigInteger>("cumulativeAmount"),
                log.BlockNumber,
                log.TransactionHash));
        }

        return events;
    }

    /// <summary>Re-describes a revert from this contract with its custom error, e.g. <c>InvalidProof()</c>.</summary>
    public static ChainException Describe(ChainException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.RevertData is not { Length: >= 4 } data)
        {
            return exception;
        }

        var reason = RevertDecoder.Describe(data, Abi);
        return new ChainException(
            $"FedAggLedger reverted: {reason}",
            exception,
            exception.IsTransient,
            exception.RpcErrorCode,
            exception.NodeMessage,
            data,
            reason);
    }

    private static Bytes32 RoundTopic(ulong round)
    {
        Span<byte> word = stackalloc byte[32];
        AbiEncoding.WriteUint64(round, word);
        return new Bytes32(word);
    }

    private static Bytes32 AddressTopic(EthereumAddress account)
    {
        Span<byte> word = stackalloc byte[32];
        AbiEncoding.WriteAddress(account.AsSpan(), word);
        return new Bytes32(word);
    }

    private static async Task<TransactionReceipt> SendDecoratedAsync(TransactionSender sender, TransactionRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await sender.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ChainException exception) when (exception.RevertData is not null)
        {
            throw Describe(exception);
        }
    }

    private Task<TransactionReceipt> SendAsync(TransactionSender sender, string function, CancellationToken cancellationToken, params object?[] arguments)
    {
        ArgumentNullException.ThrowIfNull(sender);
        var calldata = Abi.GetFunction(function).EncodeCall(arguments);
        return SendDecoratedAsync(sender, new TransactionRequest(Address, calldata), cancellationToken);
    }

    private async Task<AbiValues> CallAsync(string function, ulong? block, CancellationToken cancellationToken, params object?[] arguments)
    {
        var abiFunction = Abi.GetFunction(function);
        byte[] output;
        try
        {
            output = await _rpc.CallAsync(new CallRequest(Address, abiFunction.EncodeCall(arguments)), block, cancellationToken).ConfigureAwait(false);
        }
        catch (ChainException exception) when (exception.RevertData is not null)
        {
            throw Describe(exception);
        }

        if (output.Length == 0 && abiFunction.Outputs.Count > 0)
        {
            throw new ChainException($"{function} returned nothing: is there a FedAggLedger at {Address}?");
        }

        try
        {
            return abiFunction.DecodeOutput(output);
        }
        catch (AbiDecodingException exception)
        {
            throw new ChainException($"{function} on {Address} returned data that is not its ABI output: {exception.Message}", exception);
        }
    }

    private static (ContractAbi Abi, byte[] Bytecode) LoadArtifact()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("FedAggLedger.json")
            ?? throw new InvalidOperationException("The FedAggLedger artifact is not embedded: build after `node contracts/compile.mjs` has written contracts/artifacts/FedAggLedger.json.");
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        var abi = ContractAbi.Parse(root.GetProperty("abi"));
        var bytecode = Core.Codecs.Hex.TryDecode(root.GetProperty("bytecode").GetString() ?? string.Empty)
            ?? throw new InvalidOperationException("The embedded FedAggLedger artifact has no valid bytecode.");
        return (abi, bytecode);
    }
}
