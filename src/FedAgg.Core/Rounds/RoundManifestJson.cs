using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FedAgg.Core.Codecs;
using FedAgg.Core.Identity;
using FedAgg.Core.Merkle;
using FedAgg.Core.Updates;

namespace FedAgg.Core.Rounds;

/// <summary>
/// Reads and writes round manifests as JSON (docs/PROTOCOL.md, "Round manifest"). The reader is strict: every field is
/// required (nullable ones as JSON <c>null</c>), unknown or repeated fields, wrong types, non-normal numbers, hex of the
/// wrong length and anything over the limits below are errors naming the field's path.
/// </summary>
public static partial class RoundManifestJson
{
    /// <summary>The largest manifest accepted (256 MiB).</summary>
    public const int MaxBytes = 256 << 20;

    /// <summary>The most updates one manifest may list.</summary>
    public const int MaxUpdates = 1_000_000;

    /// <summary>The most credit entries one manifest may list.</summary>
    public const int MaxCredits = 10_000_000;

    /// <summary>The longest reason (UTF-8 bytes), as for receipts.</summary>
    public const int MaxReasonBytes = SubmitReceipt.MaxReasonBytes;

    /// <summary>Serializes <paramref name="manifest"/> (indented UTF-8 JSON, fields in the documented order).</summary>
    public static byte[] Write(RoundManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            Write(writer, manifest);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a manifest strictly.</summary>
    /// <exception cref="FormatException">The JSON is malformed, too large, or a field is missing, unknown or wrong; the message names it.</exception>
    public static RoundManifest Read(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxBytes)
        {
            throw new FormatException($"the manifest is {utf8Json.Length} bytes, more than {MaxBytes}");
        }

        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 32 });
            using var document = JsonDocument.ParseValue(ref reader);
            return Read(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"manifest: not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Parses a manifest; never throws for bad input.</summary>
    public static bool TryRead(ReadOnlySpan<byte> utf8Json, [NotNullWhen(true)] out RoundManifest? manifest, [NotNullWhen(false)] out string? error)
    {
        try
        {
            manifest = Read(utf8Json);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            manifest = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Reads a manifest file (at most <see cref="MaxBytes"/>).</summary>
    /// <exception cref="FormatException">The file is not a valid manifest.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static async Task<RoundManifest> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        if (stream.Length > MaxBytes)
        {
            throw new FormatException($"the manifest {path} is {stream.Length} bytes, more than {MaxBytes}");
        }

        var bytes = new byte[stream.Length];
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return Read(bytes);
    }

    /// <summary>
    /// Writes a manifest file atomically and durably: a temporary sibling is written and fsync'd, renamed over
    /// <paramref name="path"/>, and the directory fsync'd, so readers see the old file or the whole new one.
    /// </summary>
    /// <exception cref="IOException">The file or its directory cannot be written.</exception>
    public static async Task WriteFileAsync(string path, RoundManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = Write(manifest);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, useAsync: true))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        FlushDirectory(directory);
    }

    private static void Write(Utf8JsonWriter w, RoundManifest m)
    {
        w.WriteStartObject();
        w.WriteNumber("version", m.Version);
        w.WriteString("taskId", m.TaskId);
        w.WriteNumber("round", m.Round);
        w.WriteNumber("chainId", m.ChainId);
        w.WriteString("ledger", Hex.Encode(m.Ledger.Span));
        w.WriteString("serverPeerId", m.ServerPeerId);
        w.WriteString("serverPublicKey", Hex.Encode(m.ServerPublicKey.Span));
        w.WriteString("parentModelHash", m.ParentModelHash.ToString());
        w.WriteString("modelHash", m.ModelHash.ToString());
        WriteNullableHash(w, "optimizerStateHash", m.OptimizerStateHash);
        w.WriteString("settingsHash", m.SettingsHash.ToString());
        w.WritePropertyName("settings");
        m.Settings.WriteTo(w);
        w.WriteString("updatesRoot", m.UpdatesRoot.ToString());
        w.WriteString("creditsRoot", m.CreditsRoot.ToString());
        WriteNullableHash(w, "anchorTx", m.AnchorTx);
        w.WriteStartObject("aggregation");
        w.WriteStartArray("selected");
        foreach (var index in m.Aggregation.Selected)
        {
            w.WriteNumberValue(index);
        }

        w.WriteEndArray();
        w.WriteStartArray("excluded");
        foreach (var excluded in m.Aggregation.Excluded)
        {
            w.WriteStartObject();
            w.WriteNumber("index", excluded.Index);
            w.WriteString("reason", excluded.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("updates");
        foreach (var u in m.Updates)
        {
            w.WriteStartObject();
            w.WriteString("updateId", u.UpdateId.ToString());
            w.WriteString("peerId", u.PeerId);
            w.WriteString("signerPublicKey", u.SignerPublicKey.ToString());
            w.WriteString("preimage", Hex.Encode(u.Preimage.Span));
            w.WriteString("signature", Hex.Encode(u.Signature.Span));
            w.WriteString("receipt", Hex.Encode(u.Receipt.Span));
            w.WriteBoolean("accepted", u.Accepted);
            w.WriteNumber("status", (uint)u.Status);
            w.WriteString("reason", u.Reason);
            if (u.Score is { } score && double.IsFinite(score))
            {
                w.WriteString("score", StrictJson.FormatDouble(score));
            }
            else
            {
                w.WriteNull("score");
            }

            w.WriteString("contribution", StrictJson.FormatDouble(u.Contribution));
            w.WriteString("credit", u.Credit.ToString(CultureInfo.InvariantCulture));
            WriteNullableBytes(w, "boundAddress", u.BoundAddress);
            WriteNullableBytes(w, "bindingSignature", u.BindingSignature);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("credits");
        foreach (var credit in m.Credits)
        {
            w.WriteStartObject();
            w.WriteString("account", Hex.Encode(credit.Account.Span));
            w.WriteString("cumulativeAmount", credit.CumulativeAmount.ToString(CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static RoundManifest Read(JsonElement root)
    {
        var o = new StrictObject(root, "manifest");
        var version = (int)o.Integer("version", 0, int.MaxValue);
        if (version != RoundManifest.CurrentVersion)
        {
            throw new FormatException($"{o.Child("version")}: this build reads manifest version {RoundManifest.CurrentVersion}, not {version}");
        }

        var aggregation = new StrictObject(o.Required("aggregation"), o.Child("aggregation"));
        var selectedItems = StrictJson.Array(aggregation.Required("selected"), aggregation.Child("selected"), MaxUpdates);
        var selected = new int[selectedItems.Length];
        for (var i = 0; i < selected.Length; i++)
        {
            selected[i] = (int)StrictJson.Integer(selectedItems[i], $"{aggregation.Child("selected")}[{i}]", 0, MaxUpdates);
        }

        var excludedItems = StrictJson.Array(aggregation.Required("excluded"), aggregation.Child("excluded"), MaxUpdates);
        var excluded = new RoundExclusion[excludedItems.Length];
        for (var i = 0; i < excluded.Length; i++)
        {
            var e = new StrictObject(excludedItems[i], $"{aggregation.Child("excluded")}[{i}]");
            excluded[i] = new RoundExclusion((int)e.Integer("index", 0, MaxUpdates), e.String("reason", MaxReasonBytes));
            e.End();
        }

        aggregation.End();

        var updateItems = StrictJson.Array(o.Required("updates"), o.Child("updates"), MaxUpdates);
        var updates = new RoundUpdate[updateItems.Length];
        for (var i = 0; i < updates.Length; i++)
        {
            updates[i] = ReadUpdate(new StrictObject(updateItems[i], $"{o.Child("updates")}[{i}]"));
        }

        var creditItems = StrictJson.Array(o.Required("credits"), o.Child("credits"), MaxCredits);
        var credits = new RoundCredit[creditItems.Length];
        for (var i = 0; i < credits.Length; i++)
        {
            var c = new StrictObject(creditItems[i], $"{o.Child("credits")}[{i}]");
            credits[i] = new RoundCredit(
                StrictJson.HexBytes(c.Required("account"), c.Child("account"), 20),
                StrictJson.Uint256(c.Required("cumulativeAmount"), c.Child("cumulativeAmount")));
            c.End();
        }

        var manifest = new RoundManifest
        {
            Version = version,
            TaskId = o.String("taskId", UpdatePreimage.MaxTaskIdBytes),
            Round = (ulong)o.Integer("round", 1, CanonicalJson.MaxSafeInteger),
            ChainId = (ulong)o.Integer("chainId", 0, CanonicalJson.MaxSafeInteger),
            Ledger = StrictJson.HexBytes(o.Required("ledger"), o.Child("ledger"), 20),
            ServerPeerId = o.String("serverPeerId", PeerId.MaxTextLength),
            ServerPublicKey = StrictJson.HexBytes(o.Required("serverPublicKey"), o.Child("serverPublicKey"), -1, LibP2pKeyEncoding.MaxEncodedKeyLength),
            ParentModelHash = StrictJson.Hash(o.Required("parentModelHash"), o.Child("parentModelHash")),
            ModelHash = StrictJson.Hash(o.Required("modelHash"), o.Child("modelHash")),
            OptimizerStateHash = o.Nullable("optimizerStateHash") is { } state ? StrictJson.Hash(state, o.Child("optimizerStateHash")) : null,
            SettingsHash = StrictJson.Hash(o.Required("settingsHash"), o.Child("settingsHash")),
            Settings = TaskSettings.Read(o.Required("settings"), o.Child("settings")),
            UpdatesRoot = StrictJson.Hash(o.Required("updatesRoot"), o.Child("updatesRoot")),
            CreditsRoot = StrictJson.Hash(o.Required("creditsRoot"), o.Child("creditsRoot")),
            AnchorTx = o.Nullable("anchorTx") is { } tx ? StrictJson.Hash(tx, o.Child("anchorTx")) : null,
            Aggregation = new RoundAggregation(selected, excluded),
            Updates = updates,
            Credits = credits,
        };
        o.End();
        return manifest;
    }

    private static RoundUpdate ReadUpdate(StrictObject u)
    {
        var status = u.Integer("status", 0, uint.MaxValue);
        var score = u.Nullable("score");
        var update = new RoundUpdate
        {
            UpdateId = StrictJson.Hash(u.Required("updateId"), u.Child("updateId")),
            PeerId = u.String("peerId", PeerId.MaxTextLength),
            SignerPublicKey = StrictJson.Hash(u.Required("signerPublicKey"), u.Child("signerPublicKey")),
            Preimage = StrictJson.HexBytes(u.Required("preimage"), u.Child("preimage"), -1, UpdatePreimage.MaxLength),
            Signature = StrictJson.HexBytes(u.Required("signature"), u.Child("signature"), -1, SubmitRequest.MaxSignatureLength),
            Receipt = StrictJson.HexBytes(u.Required("receipt"), u.Child("receipt"), -1, SubmitReceipt.MaxEncodedLength),
            Accepted = u.Boolean("accepted"),
            Status = (SubmitStatus)(uint)status,
            Reason = u.String("reason", MaxReasonBytes),
            Score = score is { } s ? StrictJson.Double(s, u.Child("score")) : null,
            Contribution = StrictJson.Double(u.Required("contribution"), u.Child("contribution")),
            Credit = StrictJson.Uint256(u.Required("credit"), u.Child("credit")),
            BoundAddress = u.Nullable("boundAddress") is { } address ? StrictJson.HexBytes(address, u.Child("boundAddress"), 20) : ReadOnlyMemory<byte>.Empty,
            BindingSignature = u.Nullable("bindingSignature") is { } binding
                ? StrictJson.HexBytes(binding, u.Child("bindingSignature"), Ed25519PublicKey.SignatureLength)
                : ReadOnlyMemory<byte>.Empty,
        };
        u.End();
        return update;
    }

    private static void WriteNullableHash(Utf8JsonWriter w, string name, Bytes32? value)
    {
        if (value is { } hash)
        {
            w.WriteString(name, hash.ToString());
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNullableBytes(Utf8JsonWriter w, string name, ReadOnlyMemory<byte> value)
    {
        if (value.IsEmpty)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, Hex.Encode(value.Span));
        }
    }

    private static void FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var flags = OperatingSystem.IsLinux()
            ? (RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000) | 0x80000
            : OperatingSystem.IsMacOS() ? 0x100000 | 0x1000000 : 0;
        var fd = OpenDirectory(directory, flags);
        if (fd < 0)
        {
            throw new IOException($"open({directory}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync({directory}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenDirectory(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
