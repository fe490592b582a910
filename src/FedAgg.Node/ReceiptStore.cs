using System.Globalization;
using System.Text.Json;
using FedAgg.Core.Codecs;
using FedAgg.Core.Merkle;
using FedAgg.Core.Updates;

namespace FedAgg.Node;

/// <summary>
/// A receipt as a node keeps it: the signed request (preimage and signature, so the same update can be resubmitted
/// bit for bit) and the server's receipt, exactly as received.
/// </summary>
public sealed record StoredReceipt
{
    /// <summary>The task.</summary>
    public required string TaskId { get; init; }

    /// <summary>The round the update was submitted to.</summary>
    public required ulong Round { get; init; }

    /// <summary>The submitting peer.</summary>
    public required string PeerId { get; init; }

    /// <summary>The update's id, SHA-256 of <see cref="Preimage"/>.</summary>
    public required Bytes32 UpdateId { get; init; }

    /// <summary>The signed preimage.</summary>
    public required ReadOnlyMemory<byte> Preimage { get; init; }

    /// <summary>The node's Ed25519 signature over <see cref="Preimage"/>.</summary>
    public required ReadOnlyMemory<byte> Signature { get; init; }

    /// <summary>The receipt's status (accepted, or duplicate when only a retry's answer arrived).</summary>
    public required SubmitStatus Status { get; init; }

    /// <summary>The server's reason, if any.</summary>
    public string Reason { get; init; } = "";

    /// <summary>The receipt's sequence number.</summary>
    public ulong Sequence { get; init; }

    /// <summary>When the server received the update (Unix ms).</summary>
    public ulong ReceivedUnixMs { get; init; }

    /// <summary>The receipt's protobuf bytes, exactly as received.</summary>
    public required ReadOnlyMemory<byte> Receipt { get; init; }

    /// <summary>The server peer the receipt was verified against.</summary>
    public required string ServerPeerId { get; init; }

    /// <summary>How many sends it took.</summary>
    public int Attempts { get; init; } = 1;
}

/// <summary>
/// Keeps a node's receipts on disk, one JSON file per task and round (<c>receipts/&lt;task&gt;/round-&lt;r&gt;.json</c>),
/// each written atomically (temporary file, flush, rename).
/// </summary>
public sealed class ReceiptStore
{
    /// <summary>The largest receipt file read (64 KiB).</summary>
    public const int MaxFileBytes = 64 * 1024;

    /// <summary>Creates a store under <paramref name="dataDirectory"/>.</summary>
    /// <param name="dataDirectory">The node's data directory.</param>
    public ReceiptStore(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        Root = Path.Combine(Path.GetFullPath(dataDirectory), "receipts");
    }

    /// <summary>The folder holding one sub-folder per task.</summary>
    public string Root { get; }

    /// <summary>The file of a task's round.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round.</param>
    /// <returns>The path.</returns>
    public string PathOf(string taskId, ulong round) =>
        Path.Combine(Root, SafeName(taskId), $"round-{round.ToString("D6", CultureInfo.InvariantCulture)}.json");

    /// <summary>Writes (or replaces) the receipt of its task and round.</summary>
    /// <param name="receipt">The receipt.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The file's path.</returns>
    public async Task<string> WriteAsync(StoredReceipt receipt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        var path = PathOf(receipt.TaskId, receipt.Round);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            await using (writer.ConfigureAwait(false))
            {
                writer.WriteStartObject();
                writer.WriteString("taskId", receipt.TaskId);
                writer.WriteNumber("round", receipt.Round);
                writer.WriteString("peerId", receipt.PeerId);
                writer.WriteString("updateId", receipt.UpdateId.ToString());
                writer.WriteString("status", receipt.Status.ToString());
                writer.WriteNumber("statusCode", (uint)receipt.Status);
                writer.WriteString("reason", receipt.Reason);
                writer.WriteNumber("sequence", receipt.Sequence);
                writer.WriteNumber("receivedUnixMs", receipt.ReceivedUnixMs);
                writer.WriteString("serverPeerId", receipt.ServerPeerId);
                writer.WriteNumber("attempts", receipt.Attempts);
                writer.WriteString("preimage", Hex.Encode(receipt.Preimage.Span));
                writer.WriteString("signature", Hex.Encode(receipt.Signature.Span));
                writer.WriteString("receipt", Hex.Encode(receipt.Receipt.Span));
                writer.WriteEndObject();
            }

            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>Reads the receipt of a task's round, or null when the node kept none.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The receipt, or null.</returns>
    /// <exception cref="ParticipantNodeException">The file is too large or not a receipt file.</exception>
    public async Task<StoredReceipt?> ReadAsync(string taskId, ulong round, CancellationToken cancellationToken)
    {
        var path = PathOf(taskId, round);
        if (!File.Exists(path))
        {
            return null;
        }

        if (new FileInfo(path).Length > MaxFileBytes)
        {
            throw new ParticipantNodeException($"{path} is over {MaxFileBytes} bytes; not a receipt file.");
        }

        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            return new StoredReceipt
            {
                TaskId = root.GetProperty("taskId").GetString()!,
                Round = root.GetProperty("round").GetUInt64(),
                PeerId = root.GetProperty("peerId").GetString()!,
                UpdateId = Bytes32.Parse(root.GetProperty("updateId").GetString()!),
                Status = (SubmitStatus)root.GetProperty("statusCode").GetUInt32(),
                Reason = root.GetProperty("reason").GetString() ?? "",
                Sequence = root.GetProperty("sequence").GetUInt64(),
                ReceivedUnixMs = root.GetProperty("receivedUnixMs").GetUInt64(),
                ServerPeerId = root.GetProperty("serverPeerId").GetString()!,
                Attempts = root.GetProperty("attempts").GetInt32(),
                Preimage = HexProperty(root, "preimage"),
                Signature = HexProperty(root, "signature"),
                Receipt = HexProperty(root, "receipt"),
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ParticipantNodeException($"{path} is not a receipt file: {e.Message}", e);
        }
    }

    private static byte[] HexProperty(JsonElement root, string name) =>
        Hex.TryDecode(root.GetProperty(name).GetString()) ?? throw new FormatException($"\"{name}\" is not 0x-prefixed hex.");

    private static string SafeName(string taskId)
    {
        // Task ids are free text; a file name keeps letters, digits, '-', '_' and '.', and escapes the rest.
        var builder = new System.Text.StringBuilder(taskId.Length);
        foreach (var c in taskId)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' || (c == '.' && builder.Length > 0))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
