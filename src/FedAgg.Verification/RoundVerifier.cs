using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using FedAgg.Aggregation;
using FedAgg.Aggregation.Credits;
using FedAgg.Chain;
using FedAgg.Chain.Ledger;
using FedAgg.Chain.Rpc;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Rounds;
using FedAgg.Core.Updates;

namespace FedAgg.Verification;

/// <summary>The chain a round is anchored on.</summary>
/// <param name="Rpc">A JSON-RPC client of the chain.</param>
/// <param name="Ledger">The FedAggLedger's address.</param>
public sealed record RoundChain(EthereumRpcClient Rpc, EthereumAddress Ledger);

/// <summary>
/// Verifies a round end to end from its published artefacts (docs/PROTOCOL.md, "Round manifest", "Verifying a round").
/// Every rule below is a named check; a check whose inputs failed an earlier check is reported as skipped.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><c>manifest</c>: the manifest reads strictly and is the asked-for task and round; the settings' task is the
/// manifest's; serverPeerId is the peer ID of serverPublicKey; accepted ⇔ status 0; a left-out update has a reason,
/// no score, contribution 0 and credit 0; update IDs are unique and one accepted update per signer; the accepted count
/// is within [minParticipants, maxParticipants]; credits ascend strictly by account, every amount &gt; 0; a binding has
/// both address and signature or neither.</item>
/// <item><c>settingsHash</c>: SHA-256 of the settings' canonical JSON is settingsHash.</item>
/// <item><c>previousRound</c>: for round r &gt; 1 the manifest of round r − 1 exists, is of the same task, its modelHash is
/// parentModelHash and its settingsHash is this one.</item>
/// <item>per update i, <c>update[i].preimage</c>: it parses; updateId = SHA-256(preimage); its task, round, chainId, ledger
/// are the manifest's, its baseModelHash is parentModelHash, its codec and numElements the settings'.
/// <c>update[i].signature</c>: Ed25519 verifies with signerPublicKey. <c>update[i].peerId</c>: peerId is that key's.
/// <c>update[i].receipt</c>: the receipt decodes, is accepted (0) or duplicate (1), names updateId, carries serverPublicKey
/// and its signature over <c>"FEDAGG-RECEIPT-V1" ‖ updateId ‖ u64 sequence ‖ u64 receivedUnixMs</c> verifies.
/// <c>update[i].binding</c> (bound updates only): the FEDAGG-BIND-V1 signature verifies.
/// <c>update[i].payload</c> (accepted only): the payload is stored, is numElements × elementSize bytes, and hashes to payloadSha256.</item>
/// <item><c>receipts</c>: entry i's receipt has sequence i + 1 (the manifest lists every receipted update, in journal order).</item>
/// <item><c>updatesRoot</c>: <c>StandardMerkleTree.ForUpdates</c> over the accepted (updateId, signerPublicKey); zero when none.</item>
/// <item><c>parentModel</c>: the parent model is stored, hashes to parentModelHash and has the settings' tensors.
/// <c>previousOptimizerState</c> (optimizers with state, round &gt; 1): the previous manifest's optimizerStateHash is
/// stored and hashes to itself; round 1 starts from zeros.</item>
/// <item><c>modelHash</c>: the engine re-run over the accepted payloads in manifest order, then the outer optimizer on the
/// parent model and the previous state, gives a model hashing to modelHash; <c>optimizerStateHash</c>: the new state
/// hashes to optimizerStateHash (null for an optimizer without state); <c>aggregation</c>: selected, excluded, every
/// score and contribution are the re-run's.</item>
/// <item><c>credits.split</c>: <c>CreditSplit.Distribute(creditsPerRound, contributions)</c> is every accepted update's credit.
/// <c>credits.cumulative</c>: the previous round's credits (none in round 1) plus each accepted bound update's credit
/// to its address, ascending, zero amounts left out, is the credits list. <c>creditsRoot</c>: <c>StandardMerkleTree.ForCredits</c>
/// of the list (zero when empty).</item>
/// <item>With a chain: <c>chain.roundCommitment</c>: the node's chain ID is chainId and <c>roundCommitment(taskKey, round)</c> is
/// the commitment of (taskKey, round, parentModelHash, modelHash, updatesRoot, creditsRoot, settingsHash, acceptedCount);
/// <c>chain.anchorEvent</c>: anchorTx succeeded and emitted, from the ledger, a <c>RoundAnchored</c> with those values.</item>
/// </list>
/// </remarks>
public sealed class RoundVerifier
{
    private readonly AggregationOptions? _options;

    /// <summary>Creates a verifier; <paramref name="options"/> sets the engine's threads and blocks (they never change a bit).</summary>
    public RoundVerifier(AggregationOptions? options = null) => _options = options;

    /// <summary>Runs every check on the round <paramref name="artifacts"/> holds, and the chain checks when <paramref name="chain"/> is given.</summary>
    /// <returns>The checks in the order they ran; the round verifies when every one passed.</returns>
    public async Task<IReadOnlyList<VerificationCheck>> VerifyAsync(IRoundArtifacts artifacts, RoundChain? chain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        var checks = new List<VerificationCheck>();
        RoundManifest manifest;
        try
        {
            manifest = await artifacts.ReadManifestAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            checks.Add(VerificationCheck.Fail("manifest", e.Message));
            return checks;
        }

        checks.Add(CheckManifest(manifest, artifacts));
        var settingsCheck = CheckSettingsHash(manifest);
        checks.Add(settingsCheck);

        RoundManifest? previous = null;
        string? previousProblem = null;
        if (manifest.Round > 1)
        {
            try
            {
                previous = await artifacts.ReadPreviousManifestAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                previousProblem = e.Message;
            }

            checks.Add(CheckPreviousRound(manifest, previous, previousProblem));
            if (!checks[^1].Passed)
            {
                previous = null;
            }
        }

        var payloadsOk = true;
        for (var i = 0; i < manifest.Updates.Count; i++)
        {
            payloadsOk &= CheckUpdate(manifest, i, artifacts, checks, cancellationToken);
        }

        checks.Add(CheckReceiptSequence(manifest));
        var updatesRoot = RoundComputation.ComputeUpdatesRoot(manifest.Updates);
        checks.Add(VerificationCheck.Of("updatesRoot", updatesRoot == manifest.UpdatesRoot,
            $"{updatesRoot} over {manifest.AcceptedCount} accepted update(s)", $"the accepted updates' tree has root {updatesRoot}, the manifest says {manifest.UpdatesRoot}"));

        var computation = await CheckAggregationAsync(manifest, previous, settingsCheck.Passed, payloadsOk, artifacts, checks, cancellationToken).ConfigureAwait(false);
        CheckCredits(manifest, previous, computation, checks);
        if (chain is not null)
        {
            await CheckChainAsync(manifest, chain, checks, cancellationToken).ConfigureAwait(false);
        }

        return checks;
    }

    private static VerificationCheck CheckManifest(RoundManifest m, IRoundArtifacts artifacts)
    {
        const string Name = "manifest";
        if (m.TaskId != artifacts.TaskId || m.Round != artifacts.Round)
        {
            return VerificationCheck.Fail(Name, $"the manifest is for task '{m.TaskId}' round {m.Round}, not task '{artifacts.TaskId}' round {artifacts.Round}");
        }

        if (m.Settings.TaskId != m.TaskId)
        {
            return VerificationCheck.Fail(Name, $"the settings are for task '{m.Settings.TaskId}', the manifest for '{m.TaskId}'");
        }

        if (!Ed25519PublicKey.TryFromProtobuf(m.ServerPublicKey.Span, out var serverKey, out var keyError))
        {
            return VerificationCheck.Fail(Name, $"serverPublicKey: {keyError}");
        }

        if (serverKey.PeerId.ToString() != m.ServerPeerId)
        {
            return VerificationCheck.Fail(Name, $"serverPeerId {m.ServerPeerId} is not the peer ID of serverPublicKey ({serverKey.PeerId})");
        }

        var ids = new HashSet<Bytes32>();
        var signers = new HashSet<Bytes32>();
        for (var i = 0; i < m.Updates.Count; i++)
        {
            var u = m.Updates[i];
            if (u.Accepted != (u.Status == SubmitStatus.Accepted))
            {
                return VerificationCheck.Fail(Name, $"updates[{i}]: accepted is {u.Accepted} but status is {(uint)u.Status}");
            }

            if (!u.Accepted && (u.Reason.Length == 0 || u.Score is not null || u.Contribution != 0 || !u.Credit.IsZero))
            {
                return VerificationCheck.Fail(Name, $"updates[{i}] is left out, so it needs a reason and no score, contribution or credit");
            }

            if (u.Accepted && u.Reason.Length != 0)
            {
                return VerificationCheck.Fail(Name, $"updates[{i}] is accepted but has a reason");
            }

            if (u.BoundAddress.IsEmpty != u.BindingSignature.IsEmpty)
            {
                return VerificationCheck.Fail(Name, $"updates[{i}]: boundAddress and bindingSignature come together");
            }

            if (!ids.Add(u.UpdateId))
            {
                return VerificationCheck.Fail(Name, $"updates[{i}]: update {u.UpdateId} is listed twice");
            }

            if (u.Accepted && !signers.Add(u.SignerPublicKey))
            {
                return VerificationCheck.Fail(Name, $"updates[{i}]: a second accepted update of signer {u.SignerPublicKey}");
            }
        }

        var accepted = m.AcceptedCount;
        if (accepted < m.Settings.MinParticipants || accepted > m.Settings.MaxParticipants)
        {
            return VerificationCheck.Fail(Name, $"{accepted} accepted update(s), outside [minParticipants, maxParticipants] = [{m.Settings.MinParticipants}, {m.Settings.MaxParticipants}]");
        }

        for (var i = 0; i < m.Credits.Count; i++)
        {
            if (m.Credits[i].CumulativeAmount.IsZero)
            {
                return VerificationCheck.Fail(Name, $"credits[{i}] has a cumulative amount of 0");
            }

            if (i > 0 && m.Credits[i - 1].Account.Span.SequenceCompareTo(m.Credits[i].Account.Span) >= 0)
            {
                return VerificationCheck.Fail(Name, $"credits[{i}] is not after credits[{i - 1}] in ascending account order");
            }
        }

        return VerificationCheck.Pass(Name, $"task '{m.TaskId}' round {m.Round}: {m.Updates.Count} receipted, {accepted} accepted, {m.Credits.Count} credit account(s)");
    }

    private static VerificationCheck CheckSettingsHash(RoundManifest m)
    {
        var hash = m.Settings.ComputeHash();
        return VerificationCheck.Of("settingsHash", hash == m.SettingsHash,
            $"SHA-256 of the canonical settings is {hash}", $"SHA-256 of the canonical settings is {hash}, the manifest says {m.SettingsHash}");
    }

    private static VerificationCheck CheckPreviousRound(RoundManifest m, RoundManifest? previous, string? problem)
    {
        const string Name = "previousRound";
        if (previous is null)
        {
            return VerificationCheck.Fail(Name, problem is null ? $"the manifest of round {m.Round - 1} is not available" : $"the manifest of round {m.Round - 1}: {problem}");
        }

        if (previous.TaskId != m.TaskId || previous.Round != m.Round - 1)
        {
            return VerificationCheck.Fail(Name, $"the previous manifest is task '{previous.TaskId}' round {previous.Round}");
        }

        if (previous.ModelHash != m.ParentModelHash)
        {
            return VerificationCheck.Fail(Name, $"round {previous.Round} produced {previous.ModelHash}, but this round starts from {m.ParentModelHash}");
        }

        return previous.SettingsHash != m.SettingsHash
            ? VerificationCheck.Fail(Name, $"round {previous.Round} has settings {previous.SettingsHash}, this round {m.SettingsHash}")
            : VerificationCheck.Pass(Name, $"round {previous.Round} produced the parent model {m.ParentModelHash}");
    }

    /// <returns>False when an accepted update's payload cannot be used (missing or wrong).</returns>
    private static bool CheckUpdate(RoundManifest m, int i, IRoundArtifacts artifacts, List<VerificationCheck> checks, CancellationToken cancellationToken)
    {
        var u = m.Updates[i];
        var prefix = $"update[{i}]";
        UpdatePreimage? preimage = null;
        if (!UpdatePreimage.TryParse(u.Preimage.Span, out var parsed, out var parseError))
        {
            checks.Add(VerificationCheck.Fail(prefix + ".preimage", parseError));
        }
        else
        {
            preimage = parsed;
            checks.Add(CheckPreimage(m, u, preimage, prefix + ".preimage"));
        }

        Ed25519PublicKey? signer = null;
        try
        {
            signer = Ed25519PublicKey.FromBytes(u.SignerPublicKey.AsSpan());
        }
        catch (ArgumentException e)
        {
            checks.Add(VerificationCheck.Fail(prefix + ".signature", $"signerPublicKey: {e.Message}"));
        }

        if (signer is not null)
        {
            checks.Add(VerificationCheck.Of(prefix + ".signature", signer.Verify(u.Preimage.Span, u.Signature.Span),
                $"signed by {u.SignerPublicKey}", $"the signature does not verify with {u.SignerPublicKey}"));
            checks.Add(VerificationCheck.Of(prefix + ".peerId", signer.PeerId.ToString() == u.PeerId,
                u.PeerId, $"peerId {u.PeerId} is not the signer's ({signer.PeerId})"));
        }
        else
        {
            checks.Add(VerificationCheck.Skip(prefix + ".peerId", $"{prefix}.signature: no valid signer key"));
        }

        checks.Add(CheckReceipt(m, u, prefix + ".receipt"));
        if (!u.BoundAddress.IsEmpty)
        {
            checks.Add(signer is null
                ? VerificationCheck.Skip(prefix + ".binding", $"{prefix}.signature: no valid signer key")
                : VerificationCheck.Of(prefix + ".binding", AddressBinding.Verify(signer, m.ChainId, m.Ledger.Span, u.BoundAddress.Span, u.BindingSignature.Span),
                    $"{u.PeerId} bound {Hex.Encode(u.BoundAddress.Span)}", $"the binding of {Hex.Encode(u.BoundAddress.Span)} does not verify with the signer's key"));
        }

        if (!u.Accepted)
        {
            return true;
        }

        if (preimage is null)
        {
            checks.Add(VerificationCheck.Skip(prefix + ".payload", $"{prefix}.preimage: no payload hash to compare"));
            return false;
        }

        var payload = CheckPayload(u, preimage, m.Settings, artifacts, prefix + ".payload", cancellationToken);
        checks.Add(payload);
        return payload.Passed;
    }

    private static VerificationCheck CheckPreimage(RoundManifest m, RoundUpdate u, UpdatePreimage p, string name)
    {
        var id = new Bytes32(UpdatePreimage.ComputeUpdateId(u.Preimage.Span));
        string? problem =
            id != u.UpdateId ? $"SHA-256(preimage) is {id}, not updateId {u.UpdateId}"
            : p.TaskId != m.TaskId ? $"the preimage is for task '{p.TaskId}'"
            : p.Round != m.Round ? $"the preimage is for round {p.Round}"
            : p.ChainId != m.ChainId || !p.Ledger.Span.SequenceEqual(m.Ledger.Span) ? $"the preimage is for chain {p.ChainId} ledger {Hex.Encode(p.Ledger.Span)}"
            : new Bytes32(p.BaseModelHash.Span) != m.ParentModelHash ? $"the preimage's base model is {Hex.Encode(p.BaseModelHash.Span)}, not parentModelHash {m.ParentModelHash}"
            : p.Codec != m.Settings.Codec || (long)p.NumElements != m.Settings.Model.NumElements
                ? $"the preimage has {p.NumElements} {p.Codec.ToWireName()} elements, the task {m.Settings.Model.NumElements} {m.Settings.Codec.ToWireName()}"
            : null;
        return problem is null ? VerificationCheck.Pass(name, $"task, round {p.Round}, chain, base model and shape match") : VerificationCheck.Fail(name, problem);
    }

    private static VerificationCheck CheckReceipt(RoundManifest m, RoundUpdate u, string name)
    {
        if (!SubmitReceipt.TryDecode(u.Receipt.Span, out var receipt, out var error))
        {
            return VerificationCheck.Fail(name, error);
        }

        if (!receipt.IsStored)
        {
            return VerificationCheck.Fail(name, $"the receipt's status is {(uint)receipt.Status}, not accepted or duplicate");
        }

        if (!receipt.UpdateId.Span.SequenceEqual(u.UpdateId.AsSpan()))
        {
            return VerificationCheck.Fail(name, $"the receipt is for update {Hex.Encode(receipt.UpdateId.Span)}");
        }

        if (!receipt.ServerPublicKey.Span.SequenceEqual(m.ServerPublicKey.Span))
        {
            return VerificationCheck.Fail(name, "the receipt carries another key than serverPublicKey");
        }

        return VerificationCheck.Of(name, receipt.VerifyServerSignature(),
            string.Create(CultureInfo.InvariantCulture, $"sequence {receipt.Sequence} at {receipt.ReceivedUnixMs} signed by {m.ServerPeerId}"),
            "the server's signature over the receipt does not verify");
    }

    private static VerificationCheck CheckPayload(RoundUpdate u, UpdatePreimage p, TaskSettings settings, IRoundArtifacts artifacts, string name, CancellationToken cancellationToken)
    {
        using var stream = artifacts.OpenUpdatePayload(u.UpdateId);
        if (stream is null)
        {
            return VerificationCheck.Fail(name, $"the payload of {u.UpdateId} is not stored");
        }

        var expected = p.PayloadLength;
        if (expected is null || stream.Length != expected || p.Codec != settings.Codec)
        {
            return VerificationCheck.Fail(name, $"the payload is {stream.Length} bytes, not {p.NumElements} × {p.Codec.ElementSize()}");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(buffer, 0, read);
        }

        var actual = hash.GetHashAndReset();
        return VerificationCheck.Of(name, actual.AsSpan().SequenceEqual(p.PayloadSha256.Span),
            $"{stream.Length} bytes, SHA-256 {Hex.Encode(actual)}", $"the payload hashes to {Hex.Encode(actual)}, the preimage says {Hex.Encode(p.PayloadSha256.Span)}");
    }

    private static VerificationCheck CheckReceiptSequence(RoundManifest m)
    {
        const string Name = "receipts";
        for (var i = 0; i < m.Updates.Count; i++)
        {
            if (!SubmitReceipt.TryDecode(m.Updates[i].Receipt.Span, out var receipt, out _))
            {
                return VerificationCheck.Skip(Name, $"update[{i}].receipt does not decode");
            }

            if (receipt.Sequence != (ulong)i + 1)
            {
                return VerificationCheck.Fail(Name,
                    $"updates[{i}]'s receipt has sequence {receipt.Sequence}, not {i + 1}: a receipted update is missing from the manifest, or the order is wrong");
            }
        }

        return VerificationCheck.Pass(Name, $"sequences 1..{m.Updates.Count}, none missing");
    }

    private async Task<RoundComputationResult?> CheckAggregationAsync(
        RoundManifest m, RoundManifest? previous, bool settingsOk, bool payloadsOk, IRoundArtifacts artifacts, List<VerificationCheck> checks, CancellationToken cancellationToken)
    {
        string[] dependent = ["modelHash", "optimizerStateHash", "aggregation"];
        var parent = await CheckStoredAsync("parentModel", m.ParentModelHash, artifacts.ReadModelAsync, m.Settings.Model.Tensors, checks, cancellationToken).ConfigureAwait(false);
        var optimizer = m.Settings.ToOuterOptimizer();
        IReadOnlyList<float[]>? previousState = null;
        var stateOk = true;
        if (optimizer.StateNames.Count > 0 && m.Round > 1)
        {
            if (previous is null)
            {
                checks.Add(VerificationCheck.Skip("previousOptimizerState", "previousRound: no previous manifest"));
                stateOk = false;
            }
            else if (previous.OptimizerStateHash is not { } previousHash)
            {
                checks.Add(VerificationCheck.Fail("previousOptimizerState", $"round {previous.Round}'s manifest has no optimizerStateHash, but {optimizer.Name} keeps state"));
                stateOk = false;
            }
            else
            {
                var d = m.Settings.Model.NumElements;
                var stateTensors = optimizer.StateNames.Select(n => new TensorSpec(n, [d])).ToArray();
                var state = await CheckStoredAsync("previousOptimizerState", previousHash, artifacts.ReadOptimizerStateAsync, stateTensors, checks, cancellationToken).ConfigureAwait(false);
                stateOk = state is not null;
                if (state is not null)
                {
                    previousState = [.. Enumerable.Range(0, stateTensors.Length).Select(k => state.Values.AsSpan((int)(k * d), (int)d).ToArray())];
                }
            }
        }

        var blocker = !settingsOk ? "settingsHash failed"
            : !payloadsOk ? "an accepted update's payload failed its check"
            : parent is null ? "parentModel failed"
            : !stateOk ? "previousOptimizerState failed"
            : null;
        if (blocker is not null)
        {
            foreach (var name in dependent)
            {
                checks.Add(VerificationCheck.Skip(name, blocker));
            }

            return null;
        }

        var accepted = m.Updates.Where(static u => u.Accepted).ToList();
        var streams = new List<Stream>();
        RoundComputationResult result;
        try
        {
            foreach (var u in accepted)
            {
                streams.Add(artifacts.OpenUpdatePayload(u.UpdateId) ?? throw new IOException($"the payload of {u.UpdateId} disappeared"));
            }

            using var source = new PayloadUpdateSource(streams, [.. accepted.Select(static u => u.UpdateId.ToString())], m.Settings.Codec, m.Settings.Model.NumElements);
            streams.Clear();
            result = RoundComputation.Run(m.Settings, source, parent!.Values, previousState, _options, cancellationToken);
        }
        catch (Exception e) when (e is AggregationException or ArgumentException or IOException)
        {
            checks.Add(VerificationCheck.Fail("modelHash", $"the aggregation cannot be re-run: {e.Message}"));
            checks.Add(VerificationCheck.Skip("optimizerStateHash", "modelHash failed"));
            checks.Add(VerificationCheck.Skip("aggregation", "modelHash failed"));
            return null;
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }

        checks.Add(VerificationCheck.Of("modelHash", result.ModelHash == m.ModelHash,
            $"{m.Settings.Rule.Name} + {optimizer.Name} over {accepted.Count} update(s) gives {result.ModelHash}",
            $"re-running {m.Settings.Rule.Name} + {optimizer.Name} over {accepted.Count} update(s) gives {result.ModelHash}, the manifest says {m.ModelHash}"));
        checks.Add(result.OptimizerStateHash == m.OptimizerStateHash
            ? VerificationCheck.Pass("optimizerStateHash", result.OptimizerStateHash is { } h ? $"{optimizer.Name} state {h}" : $"{optimizer.Name} keeps no state")
            : VerificationCheck.Fail("optimizerStateHash",
                $"the re-run's {optimizer.Name} state hashes to {Describe(result.OptimizerStateHash)}, the manifest says {Describe(m.OptimizerStateHash)}"));
        checks.Add(CheckAggregationReport(m, accepted, result));
        return result;
    }

    private static VerificationCheck CheckAggregationReport(RoundManifest m, List<RoundUpdate> accepted, RoundComputationResult result)
    {
        const string Name = "aggregation";
        if (!m.Aggregation.Selected.SequenceEqual(result.Aggregation.Selected))
        {
            return VerificationCheck.Fail(Name, $"the re-run selects [{string.Join(", ", result.Aggregation.Selected)}], the manifest [{string.Join(", ", m.Aggregation.Selected)}]");
        }

        var excluded = result.Aggregation.Excluded.Select(static e => new RoundExclusion(e.Index, e.Reason)).ToList();
        if (!m.Aggregation.Excluded.SequenceEqual(excluded))
        {
            return VerificationCheck.Fail(Name, $"the re-run excludes [{string.Join(", ", excluded.Select(static e => e.Index))}], the manifest [{string.Join(", ", m.Aggregation.Excluded.Select(static e => e.Index))}]");
        }

        for (var i = 0; i < accepted.Count; i++)
        {
            var contribution = result.Aggregation.Contributions[i];
            if (BitConverter.DoubleToInt64Bits(contribution) != BitConverter.DoubleToInt64Bits(accepted[i].Contribution))
            {
                return VerificationCheck.Fail(Name, $"accepted update {i} ({accepted[i].UpdateId}) contributed {contribution:R}, the manifest says {accepted[i].Contribution:R}");
            }

            var score = result.ScoreOf(i, m.Settings);
            if (score != accepted[i].Score)
            {
                return VerificationCheck.Fail(Name, $"accepted update {i} ({accepted[i].UpdateId}) scores {score?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}, the manifest says {accepted[i].Score?.ToString("R", CultureInfo.InvariantCulture) ?? "null"}");
            }
        }

        return VerificationCheck.Pass(Name, $"selected [{string.Join(", ", m.Aggregation.Selected)}], {excluded.Count} excluded, scores and contributions match");
    }

    private static void CheckCredits(RoundManifest m, RoundManifest? previous, RoundComputationResult? computation, List<VerificationCheck> checks)
    {
        var accepted = m.Updates.Where(static u => u.Accepted).ToList();
        if (computation is null)
        {
            checks.Add(VerificationCheck.Skip("credits.split", "no re-run of the aggregation (see above)"));
        }
        else
        {
            var expected = CreditSplit.Distribute(m.Settings.CreditsPerRound, computation.Aggregation.Contributions);
            var wrong = Enumerable.Range(0, accepted.Count).FirstOrDefault(i => expected[i] != accepted[i].Credit, -1);
            checks.Add(wrong < 0
                ? VerificationCheck.Pass("credits.split", $"{m.Settings.CreditsPerRound} credits split over {accepted.Count} update(s) as the manifest says")
                : VerificationCheck.Fail("credits.split", $"accepted update {wrong} ({accepted[wrong].UpdateId}) earns {expected[wrong]}, the manifest says {accepted[wrong].Credit}"));
        }

        if (m.Round > 1 && previous is null)
        {
            checks.Add(VerificationCheck.Skip("credits.cumulative", "previousRound failed"));
        }
        else
        {
            var expected = RoundComputation.AccumulateCredits(
                previous?.Credits ?? [],
                accepted.Where(static u => !u.BoundAddress.IsEmpty).Select(static u => (u.BoundAddress, u.Credit)));
            checks.Add(expected.SequenceEqual(m.Credits)
                ? VerificationCheck.Pass("credits.cumulative", $"{m.Credits.Count} account(s), {Sum(m.Credits)} credits in all")
                : VerificationCheck.Fail("credits.cumulative", $"the previous credits plus this round's give {expected.Count} account(s) and {Sum(expected)} credits, the manifest lists {m.Credits.Count} and {Sum(m.Credits)}"));
        }

        var root = RoundComputation.ComputeCreditsRoot(m.Credits);
        checks.Add(VerificationCheck.Of("creditsRoot", root == m.CreditsRoot, root.ToString(), $"the credits tree has root {root}, the manifest says {m.CreditsRoot}"));
    }

    private static async Task CheckChainAsync(RoundManifest m, RoundChain chain, List<VerificationCheck> checks, CancellationToken cancellationToken)
    {
        var taskKey = FedAggLedger.TaskKey(m.TaskId);
        var expected = new RoundAnchor(taskKey, m.Round, m.ParentModelHash, m.ModelHash, m.UpdatesRoot, m.CreditsRoot, m.SettingsHash, (uint)m.AcceptedCount);
        var commitment = expected.ComputeCommitment();
        if (!m.Ledger.Span.SequenceEqual(chain.Ledger.AsSpan()))
        {
            checks.Add(VerificationCheck.Fail("chain.roundCommitment", $"the manifest's ledger is {Hex.Encode(m.Ledger.Span)}, not {chain.Ledger}"));
        }
        else
        {
            try
            {
                var chainId = await chain.Rpc.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
                var stored = chainId == m.ChainId
                    ? await new FedAggLedger(chain.Rpc, chain.Ledger).RoundCommitmentAsync(taskKey, m.Round, cancellationToken).ConfigureAwait(false)
                    : (Bytes32?)null;
                checks.Add(stored is null
                    ? VerificationCheck.Fail("chain.roundCommitment", $"the node is on chain {chainId}, the manifest on chain {m.ChainId}")
                    : VerificationCheck.Of("chain.roundCommitment", stored == commitment, $"roundCommitment = {commitment}",
                        stored == Bytes32.Zero
                            ? $"round {m.Round} of task key {taskKey} is not anchored on the ledger"
                            : $"the ledger stores {stored}, the manifest's values commit to {commitment}"));
            }
            catch (ChainException e)
            {
                checks.Add(VerificationCheck.Fail("chain.roundCommitment", e.Message));
            }
        }

        checks.Add(await CheckAnchorEventAsync(m, chain, expected, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<VerificationCheck> CheckAnchorEventAsync(RoundManifest m, RoundChain chain, RoundAnchor expected, CancellationToken cancellationToken)
    {
        const string Name = "chain.anchorEvent";
        if (m.AnchorTx is not { } tx)
        {
            return VerificationCheck.Fail(Name, "the manifest names no anchoring transaction");
        }

        try
        {
            var receipt = await chain.Rpc.GetTransactionReceiptAsync(tx, cancellationToken).ConfigureAwait(false);
            if (receipt is null || !receipt.Succeeded)
            {
                return VerificationCheck.Fail(Name, receipt is null ? $"the chain has no receipt for {tx}" : $"{tx} reverted");
            }

            var anchored = FedAggLedger.Abi.GetEvent("RoundAnchored");
            var logs = receipt.Logs.Where(l => l.Address == chain.Ledger && l.Topics.Count > 0 && l.Topics[0] == anchored.Topic0).ToList();
            if (logs.Count != 1)
            {
                return VerificationCheck.Fail(Name, $"{tx} emitted {logs.Count} RoundAnchored event(s) from the ledger");
            }

            var values = anchored.Decode(logs[0].Topics, logs[0].Data);
            var actual = new RoundAnchor(
                values.Get<Bytes32>("taskKey"), values.Get<ulong>("round"), values.Get<Bytes32>("parentModelHash"), values.Get<Bytes32>("modelHash"),
                values.Get<Bytes32>("updatesRoot"), values.Get<Bytes32>("creditsRoot"), values.Get<Bytes32>("settingsHash"), values.Get<uint>("acceptedCount"));
            return VerificationCheck.Of(Name, actual == expected,
                string.Create(CultureInfo.InvariantCulture, $"{tx} in block {receipt.BlockNumber} anchored these values"),
                $"{tx} anchored {actual}, the manifest says {expected}");
        }
        catch (ChainException e)
        {
            return VerificationCheck.Fail(Name, e.Message);
        }
    }

    private static async Task<TensorData?> CheckStoredAsync(
        string name, Bytes32 hash, Func<Bytes32, CancellationToken, Task<TensorData?>> read, IReadOnlyList<TensorSpec> tensors, List<VerificationCheck> checks, CancellationToken cancellationToken)
    {
        TensorData? data;
        try
        {
            data = await read(hash, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            checks.Add(VerificationCheck.Fail(name, e.Message));
            return null;
        }

        if (data is null)
        {
            checks.Add(VerificationCheck.Fail(name, $"{hash} is not stored"));
            return null;
        }

        if (!data.Tensors.SequenceEqual(tensors))
        {
            checks.Add(VerificationCheck.Fail(name, $"{hash} holds tensors [{string.Join(", ", data.Tensors.Select(static t => $"{t.Name}{Shape(t)}"))}], the settings say [{string.Join(", ", tensors.Select(static t => $"{t.Name}{Shape(t)}"))}]"));
            return null;
        }

        var actual = RoundComputation.HashFloat32(data.Values);
        if (actual != hash)
        {
            checks.Add(VerificationCheck.Fail(name, $"the file stored as {hash} hashes to {actual}"));
            return null;
        }

        checks.Add(VerificationCheck.Pass(name, string.Create(CultureInfo.InvariantCulture, $"{hash}: {data.Values.Length} float32 values")));
        return data;
    }

    private static string Shape(TensorSpec t) => "[" + string.Join(", ", t.Shape) + "]";

    private static string Describe(Bytes32? hash) => hash?.ToString() ?? "null";

    private static BigInteger Sum(IEnumerable<RoundCredit> credits) => credits.Aggregate(BigInteger.Zero, static (s, c) => s + c.CumulativeAmount);
}
