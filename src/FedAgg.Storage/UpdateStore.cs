using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedAgg.Storage;

/// <summary>
/// The durable store of received model updates. An update's <see cref="CommitAsync"/> returns only after its payload,
/// the payload's directory entry and its journal record are on disk, so a receipt sent after it survives any crash.
/// </summary>
/// <remarks>
/// <para>Layout under <see cref="UpdateStoreOptions.RootDirectory"/>:</para>
/// <code>
/// update-store.lock                                    held (flock) while a store has the root open
/// tasks/&lt;taskKey&gt;/task.json                            {"version":1,"taskId":"…"}
/// tasks/&lt;taskKey&gt;/rounds/&lt;round&gt;/journal                append-only records of the round's accepted updates
/// tasks/&lt;taskKey&gt;/rounds/&lt;round&gt;/updates/&lt;updateId&gt;.bin   the payload exactly as received
/// tasks/&lt;taskKey&gt;/rounds/&lt;round&gt;/updates/.tmp-*         uploads in progress
/// </code>
/// <para>
/// taskKey is the lowercase hex SHA-256 of the UTF-8 task id (fixed length, and a safe file name for any task id);
/// round is decimal without leading zeros; updateId is lowercase hex.
/// </para>
/// <para>
/// A journal is a sequence of records, integers big-endian: <c>u32 bodyLength | body | checksum[8]</c>, where body =
/// <c>u8 version (1) | u64 sequence | i64 receivedUnixMs | i64 payloadLength | u64 round | updateId[32] |
/// payloadSha256[32] | signature[64] | u8 taskIdLength | taskId | u16 signerLength | signerPublicKey |
/// u16 preimageLength | preimage</c> and checksum = the first 8 bytes of SHA-256(<c>u64 fileOffset | u32 bodyLength |
/// body</c>). The checksum covers the record's own offset, so bytes that merely look like a record (a preimage holds up
/// to 1 KiB of a client's choosing) are not taken for one when recovery resynchronises after a damaged record.
/// </para>
/// <para>
/// A commit writes and fsyncs the temporary file, renames it to its final name, fsyncs the directory, appends the
/// journal record and fsyncs the journal (<see cref="DurabilityMode"/> says how commits share those fsyncs).
/// </para>
/// <para>
/// <see cref="Open"/> recovers first (see <see cref="StoreRecoveryReport"/>): temporary files and payloads without a
/// journal record were never acknowledged and are removed; a torn last journal record is cut off; a journalled update
/// whose payload is missing or damaged, and a damaged record in the middle of a journal, are reported loudly and kept.
/// Recovery ends by flushing the file system, so what a crashed process left in the page cache is durable before the
/// store vouches for it.
/// </para>
/// <para>All members are safe to call from many threads at once.</para>
/// </remarks>
public sealed partial class UpdateStore : IAsyncDisposable, IDisposable
{
    internal const string TasksDirectoryName = "tasks";
    internal const string RoundsDirectoryName = "rounds";
    internal const string UpdatesDirectoryName = "updates";
    internal const string JournalFileName = "journal";
    internal const string TaskFileName = "task.json";
    internal const string PayloadExtension = ".bin";
    internal const string TemporaryPrefix = ".tmp-";
    internal const string LockFileName = "update-store.lock";

    /// <summary>The largest journal of one round (256 MiB, over 180,000 records of the largest size); larger appends are refused.</summary>
    internal const long MaxJournalBytes = 256L << 20;

    private const int MaxTaskFileBytes = 4096;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly object _gate = new();
    private readonly Dictionary<string, TaskState> _tasks = new(StringComparer.Ordinal);
    private readonly string _tasksDirectory;
    private readonly long _maxUpdateBytes;
    private readonly bool _onePerSigner;
    private readonly bool _rejectCopies;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly FileStream _lockFile;
    private GroupCommitter? _committer;
    private long _temporaryCounter;
    private Exception? _fault;
    private int _disposed;

    private UpdateStore(UpdateStoreOptions options, string root, FileStream lockFile, ILogger logger, TimeProvider timeProvider)
    {
        RootDirectory = root;
        DurabilityMode = options.DurabilityMode;
        _tasksDirectory = Path.Combine(root, TasksDirectoryName);
        _maxUpdateBytes = options.MaxUpdateBytes;
        _onePerSigner = options.EnforceOneUpdatePerSigner;
        _rejectCopies = options.RejectCopiedPayloads;
        _lockFile = lockFile;
        _logger = logger;
        _timeProvider = timeProvider;
        Recovery = null!;
    }

    /// <summary>The absolute root directory.</summary>
    public string RootDirectory { get; }

    /// <summary>How commits are made durable.</summary>
    public DurabilityMode DurabilityMode { get; }

    /// <summary>What recovery found and did when the store opened.</summary>
    public StoreRecoveryReport Recovery { get; private set; }

    /// <summary>Opens (creating if needed) the store at <see cref="UpdateStoreOptions.RootDirectory"/> and recovers it.</summary>
    /// <param name="options">The settings; validated first.</param>
    /// <param name="logger">Receives recovery findings and failures; none when null.</param>
    /// <param name="timeProvider">The clock for <see cref="JournalEntry.ReceivedUnixMs"/>; the system clock when null.</param>
    /// <returns>The open store, with <see cref="Recovery"/> set. Dispose it to release the root.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="StorageException">Another store holds the root, or a journal is too large to recover.</exception>
    /// <exception cref="IOException">The root cannot be read or written.</exception>
    public static UpdateStore Open(UpdateStoreOptions options, ILogger<UpdateStore>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var root = Path.GetFullPath(options.RootDirectory);
        Directory.CreateDirectory(Path.Combine(root, TasksDirectoryName));
        DurableIO.FlushDirectory(root);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(root, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new StorageException($"The update store at {root} is already open (in this or another process).", e, isTransient: true);
        }

        var store = new UpdateStore(options, root, lockFile, (ILogger?)logger ?? NullLogger.Instance, timeProvider ?? TimeProvider.System);
        try
        {
            store.Recovery = store.Recover(options.VerifyPayloadHashesOnOpen);
            if (options.DurabilityMode == DurabilityMode.GroupCommit)
            {
                store._committer = new GroupCommitter(store);
            }

            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Starts receiving an update: creates its temporary file (and, the first time, the task's and round's directories, durably).</summary>
    /// <param name="taskId">The task: 1 to <see cref="UpdateLimits.MaxTaskIdBytes"/> UTF-8 bytes.</param>
    /// <param name="round">The round, from 1.</param>
    /// <returns>The pending update; write the payload, then <see cref="CommitAsync"/> or dispose it.</returns>
    /// <exception cref="ArgumentException">The task id or round is out of range.</exception>
    /// <exception cref="StorageException">The store stopped after an I/O failure.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    public PendingUpdate BeginUpdate(string taskId, ulong round)
    {
        ValidateTaskId(taskId);
        ValidateRound(round);
        ThrowIfUnusable();
        var state = PrepareRound(taskId, round);
        var path = Path.Combine(
            state.UpdatesDirectory, TemporaryPrefix + Interlocked.Increment(ref _temporaryCounter).ToString("x16", CultureInfo.InvariantCulture));
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        return new PendingUpdate(this, state, path, handle, _maxUpdateBytes);
    }

    /// <summary>
    /// Makes a fully written update durable and journals it. When the returned task completes, the payload (under its
    /// final name) and the journal record are on disk, and the indexes list the update.
    /// </summary>
    /// <param name="pending">The update, from this store's <see cref="BeginUpdate"/>, fully written.</param>
    /// <param name="metadata">What to journal with it; its payload hash must equal the written bytes' SHA-256.</param>
    /// <param name="cancellationToken">Observed until the payload is renamed to its final name; after that the commit runs to its end.</param>
    /// <returns>The journal entry, with the round's next sequence and the receive time (from <paramref name="metadata"/> or the clock).</returns>
    /// <exception cref="ArgumentException">A metadata field has the wrong length, the payload hash differs, or the pending update belongs to another store.</exception>
    /// <exception cref="UpdateConflictException">The update id, the signer (in this round) or the payload (from another signer) is already stored or being stored; see the options.</exception>
    /// <exception cref="InvalidOperationException">The pending update was committed, failed or is in use.</exception>
    /// <exception cref="StorageException">The disk failed: the update is not acknowledged, and after a journal or directory fsync failure the store refuses further commits until reopened.</exception>
    /// <exception cref="ObjectDisposedException">The store or the pending update is disposed.</exception>
    public async ValueTask<JournalEntry> CommitAsync(PendingUpdate pending, UpdateMetadata metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(metadata);
        if (!ReferenceEquals(pending.Store, this))
        {
            throw new ArgumentException("The pending update was begun on another store.", nameof(pending));
        }

        ValidateMetadata(metadata);
        ThrowIfUnusable();
        var payloadSha256 = pending.BeginCommit();
        CommitRequest? reserved = null;
        var committed = false;
        try
        {
            if (!payloadSha256.AsSpan().SequenceEqual(metadata.PayloadSha256.Span))
            {
                throw new ArgumentException(
                    $"The written payload's SHA-256 is 0x{Convert.ToHexStringLower(payloadSha256)}, not the 0x{Convert.ToHexStringLower(metadata.PayloadSha256.Span)} the metadata states.",
                    nameof(metadata));
            }

            cancellationToken.ThrowIfCancellationRequested();
            var round = pending.RoundState;
            var request = new CommitRequest(
                round,
                metadata.UpdateId.ToArray(),
                payloadSha256,
                metadata.SignerPublicKey.ToArray(),
                metadata.Preimage.ToArray(),
                metadata.Signature.ToArray(),
                pending.Length,
                metadata.ReceivedUnixMs ?? _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            Reserve(request);
            reserved = request;

            pending.FlushAndClose();
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(pending.TemporaryPath, round.PayloadPath(request.UpdateId), overwrite: true);
            pending.MarkRenamed();

            var entry = _committer is { } committer
                ? await committer.CommitAsync(request).ConfigureAwait(false)
                : CommitNow(request);
            committed = true;
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var updateIdHex = Convert.ToHexStringLower(request.UpdateId);
                Log.UpdateCommitted(_logger, updateIdHex, entry.TaskId, entry.Round, entry.Sequence, entry.PayloadLength);
            }

            return entry;
        }
        finally
        {
            if (reserved is not null && !committed)
            {
                lock (_gate)
                {
                    Unreserve(reserved);
                }
            }

            pending.EndCommit(committed);
        }
    }

    /// <summary>The round's journalled updates in sequence order, with the state of each payload.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round, from 1.</param>
    /// <returns>A snapshot; empty for an unknown task or round.</returns>
    /// <exception cref="ArgumentException">The task id or round is out of range.</exception>
    public IReadOnlyList<StoredUpdate> ReadRound(string taskId, ulong round)
    {
        ValidateTaskId(taskId);
        ValidateRound(round);
        lock (_gate)
        {
            return _tasks.TryGetValue(taskId, out var task) && task.Rounds.TryGetValue(round, out var state)
                ? [.. state.Updates]
                : [];
        }
    }

    /// <summary>Every round the store has, by task id (ordinal) and round.</summary>
    /// <returns>A snapshot.</returns>
    public IReadOnlyList<(string TaskId, ulong Round)> EnumerateRounds()
    {
        lock (_gate)
        {
            var rounds = new List<(string TaskId, ulong Round)>();
            foreach (var task in _tasks.Values.OrderBy(static t => t.TaskId, StringComparer.Ordinal))
            {
                foreach (var round in task.Rounds.Keys)
                {
                    rounds.Add((task.TaskId, round));
                }
            }

            return rounds;
        }
    }

    /// <summary>Where the payload of an update lives (whether or not it exists).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round, from 1.</param>
    /// <param name="updateId">The 32-byte update id.</param>
    /// <returns>The absolute path of <c>updates/&lt;updateIdHex&gt;.bin</c>.</returns>
    /// <exception cref="ArgumentException">An argument is out of range.</exception>
    public string GetPayloadPath(string taskId, ulong round, ReadOnlySpan<byte> updateId)
    {
        ValidateTaskId(taskId);
        ValidateRound(round);
        if (updateId.Length != UpdateLimits.HashBytes)
        {
            throw new ArgumentException($"An update id is {UpdateLimits.HashBytes} bytes, not {updateId.Length}.", nameof(updateId));
        }

        return Path.Combine(
            _tasksDirectory, TaskState.KeyOf(taskId), RoundsDirectoryName, round.ToString(CultureInfo.InvariantCulture), UpdatesDirectoryName,
            Convert.ToHexStringLower(updateId) + PayloadExtension);
    }

    /// <summary>Finds a durable update of the task by its id (for idempotent retries: answer with the original receipt).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="updateId">The update id.</param>
    /// <param name="entry">The journal entry when found.</param>
    /// <returns>Whether it was found.</returns>
    /// <exception cref="ArgumentException">The task id is out of range.</exception>
    public bool TryGetByUpdateId(string taskId, ReadOnlySpan<byte> updateId, [NotNullWhen(true)] out JournalEntry? entry)
    {
        ValidateTaskId(taskId);
        lock (_gate)
        {
            if (_tasks.TryGetValue(taskId, out var task) && task.ByUpdateId.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(updateId, out entry))
            {
                return true;
            }
        }

        entry = null;
        return false;
    }

    /// <summary>Finds the first durable update of the task with this payload hash (to reject payloads copied from another peer).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="payloadSha256">The payload hash.</param>
    /// <param name="entry">The journal entry when found.</param>
    /// <returns>Whether it was found.</returns>
    /// <exception cref="ArgumentException">The task id is out of range.</exception>
    public bool TryGetByPayloadHash(string taskId, ReadOnlySpan<byte> payloadSha256, [NotNullWhen(true)] out JournalEntry? entry)
    {
        ValidateTaskId(taskId);
        lock (_gate)
        {
            if (_tasks.TryGetValue(taskId, out var task)
                && task.ByPayloadHash.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(payloadSha256, out entry))
            {
                return true;
            }
        }

        entry = null;
        return false;
    }

    /// <summary>Finds the first durable update of a signer in a round (one update per peer per round).</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round, from 1.</param>
    /// <param name="signerPublicKey">The signer's libp2p PublicKey protobuf.</param>
    /// <param name="entry">The journal entry when found.</param>
    /// <returns>Whether it was found.</returns>
    /// <exception cref="ArgumentException">The task id or round is out of range.</exception>
    public bool TryGetBySigner(string taskId, ulong round, ReadOnlySpan<byte> signerPublicKey, [NotNullWhen(true)] out JournalEntry? entry)
    {
        ValidateTaskId(taskId);
        ValidateRound(round);
        lock (_gate)
        {
            if (_tasks.TryGetValue(taskId, out var task)
                && task.Rounds.TryGetValue(round, out var state)
                && state.BySigner.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(signerPublicKey, out entry))
            {
                return true;
            }
        }

        entry = null;
        return false;
    }

    /// <summary>Finishes queued commits, closes the journals and releases the root.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_committer is { } committer)
        {
            _ = committer.Stop();
            committer.Join();
        }

        Close();
    }

    /// <summary>Finishes queued commits, closes the journals and releases the root.</summary>
    /// <returns>A task that completes when the store is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_committer is { } committer)
        {
            await committer.Stop().ConfigureAwait(false);
        }

        Close();
    }

    /// <summary>
    /// Closes a round's journal file handle (a later append to the round reopens it). A server calls this once a round
    /// is published, so a long-running store does not hold one open file per round it has ever seen.
    /// </summary>
    /// <param name="taskId">The task.</param>
    /// <param name="round">The round.</param>
    public void ReleaseJournal(string taskId, ulong round)
    {
        RoundState? state = null;
        lock (_gate)
        {
            if (_tasks.TryGetValue(taskId, out var task))
            {
                task.Rounds.TryGetValue(round, out state);
            }
        }

        if (state is not null)
        {
            lock (state.JournalLock)
            {
                state.Journal?.Dispose();
                state.Journal = null;
            }
        }
    }

    private void Close()
    {
        List<RoundState> rounds;
        lock (_gate)
        {
            rounds = [.. _tasks.Values.SelectMany(static t => t.Rounds.Values)];
        }

        foreach (var round in rounds)
        {
            lock (round.JournalLock)
            {
                round.Journal?.Dispose();
                round.Journal = null;
            }
        }

        _lockFile.Dispose();
    }

    private RoundState PrepareRound(string taskId, ulong round)
    {
        lock (_gate)
        {
            if (!_tasks.TryGetValue(taskId, out var task))
            {
                var directory = Path.Combine(_tasksDirectory, TaskState.KeyOf(taskId));
                Directory.CreateDirectory(directory);
                DurableIO.WriteFileAtomically(Path.Combine(directory, TaskFileName), SerializeTaskFile(taskId));
                DurableIO.FlushDirectory(_tasksDirectory);
                task = new TaskState(taskId, directory);
                _tasks.Add(taskId, task);
            }

            if (!task.Rounds.TryGetValue(round, out var state))
            {
                state = new RoundState(task, round, Path.Combine(task.Directory, RoundsDirectoryName, round.ToString(CultureInfo.InvariantCulture)));
                task.Rounds.Add(round, state);
            }

            if (!state.Prepared)
            {
                // The journal exists before any record is acknowledged, so an append needs only the journal's own fsync.
                Directory.CreateDirectory(state.UpdatesDirectory);
                using (File.OpenHandle(state.JournalPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
                {
                }

                DurableIO.FlushDirectory(state.Directory);
                DurableIO.FlushDirectory(Path.GetDirectoryName(state.Directory)!);
                DurableIO.FlushDirectory(task.Directory);
                state.Prepared = true;
                Log.RoundCreated(_logger, taskId, round, state.Directory);
            }

            return state;
        }
    }

    private JournalEntry CommitNow(CommitRequest request)
    {
        FlushDirectoryOrFault(request.Round.UpdatesDirectory);
        return AppendAndPublish(request.Round, [request])[0];
    }

    /// <summary>Appends the requests' records to the round's journal, fsyncs it, and publishes the entries.</summary>
    private JournalEntry[] AppendAndPublish(RoundState round, IReadOnlyList<CommitRequest> requests)
    {
        lock (round.JournalLock)
        {
            ThrowIfFaulted();
            ObjectDisposedException.ThrowIf(_committer is null && Volatile.Read(ref _disposed) != 0, this);
            var entries = new JournalEntry[requests.Count];
            var total = 0;
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i] = requests[i].ToEntry(round.NextSequence + (ulong)i);
                total += JournalCodec.GetRecordLength(entries[i]);
            }

            if (round.JournalLength + total > MaxJournalBytes)
            {
                throw new StorageException($"The journal {round.JournalPath} would grow past {MaxJournalBytes} bytes: the round holds too many updates.");
            }

            var buffer = ArrayPool<byte>.Shared.Rent(total);
            try
            {
                var written = 0;
                foreach (var entry in entries)
                {
                    written += JournalCodec.Write(entry, round.JournalLength + written, buffer.AsSpan(written));
                }

                try
                {
                    round.Journal ??= File.OpenHandle(round.JournalPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                    RandomAccess.Write(round.Journal, buffer.AsSpan(0, total), round.JournalLength);
                    RandomAccess.FlushToDisk(round.Journal);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // What reached the disk is unknown (and after a failed fsync the kernel may have dropped the pages).
                    throw Fault(e);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            round.JournalLength += total;
            round.NextSequence += (ulong)entries.Length;
            lock (_gate)
            {
                for (var i = 0; i < entries.Length; i++)
                {
                    var request = requests[i];
                    round.Updates.Add(new StoredUpdate(entries[i], StoredUpdateState.Intact, null));
                    round.Task.ByUpdateId.TryAdd(request.UpdateId, entries[i]);
                    round.Task.ByPayloadHash.TryAdd(request.PayloadSha256, entries[i]);
                    round.BySigner.TryAdd(request.SignerPublicKey, entries[i]);
                    Unreserve(request);
                }
            }

            return entries;
        }
    }

    private void Reserve(CommitRequest request)
    {
        var round = request.Round;
        var task = round.Task;
        lock (_gate)
        {
            if (task.ByUpdateId.TryGetValue(request.UpdateId, out var existing) || task.ReservedUpdateIds.Contains(request.UpdateId))
            {
                throw Conflict(UpdateConflict.DuplicateUpdateId, existing, $"Task '{task.TaskId}' already has update 0x{Convert.ToHexStringLower(request.UpdateId)}");
            }

            if (_onePerSigner && (round.BySigner.TryGetValue(request.SignerPublicKey, out existing) || round.ReservedSigners.Contains(request.SignerPublicKey)))
            {
                throw Conflict(UpdateConflict.SignerAlreadySubmitted, existing, $"The signer already has an update in task '{task.TaskId}' round {round.Round}");
            }

            if (_rejectCopies)
            {
                if (task.ByPayloadHash.TryGetValue(request.PayloadSha256, out existing) && !existing.SignerPublicKey.Span.SequenceEqual(request.SignerPublicKey))
                {
                    throw Conflict(UpdateConflict.CopiedPayload, existing, $"Another signer already stored this payload in task '{task.TaskId}'");
                }

                if (task.ReservedPayloads.TryGetValue(request.PayloadSha256, out var other) && !other.Signer.AsSpan().SequenceEqual(request.SignerPublicKey))
                {
                    throw Conflict(UpdateConflict.CopiedPayload, null, $"Another signer already stored this payload in task '{task.TaskId}'");
                }
            }

            task.ReservedUpdateIds.Add(request.UpdateId);
            round.ReservedSigners.Add(request.SignerPublicKey);
            ref var reservation = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(task.ReservedPayloads, request.PayloadSha256, out _);
            reservation = (reservation.Signer ?? request.SignerPublicKey, reservation.Count + 1);
        }
    }

    /// <summary>Releases a request's reservations; the caller holds the gate. Idempotent per request.</summary>
    private static void Unreserve(CommitRequest request)
    {
        if (!request.Reserved)
        {
            return;
        }

        request.Reserved = false;
        var task = request.Round.Task;
        task.ReservedUpdateIds.Remove(request.UpdateId);
        request.Round.ReservedSigners.Remove(request.SignerPublicKey);
        if (task.ReservedPayloads.TryGetValue(request.PayloadSha256, out var reservation))
        {
            if (reservation.Count <= 1)
            {
                task.ReservedPayloads.Remove(request.PayloadSha256);
            }
            else
            {
                task.ReservedPayloads[request.PayloadSha256] = (reservation.Signer, reservation.Count - 1);
            }
        }
    }

    private static UpdateConflictException Conflict(UpdateConflict conflict, JournalEntry? existing, string what) =>
        new(conflict, existing, existing is null ? what + " (still being committed)." : $"{what} (sequence {existing.Sequence} of round {existing.Round}).");

    private void FlushDirectoryOrFault(string directory)
    {
        try
        {
            DurableIO.FlushDirectory(directory);
        }
        catch (IOException e)
        {
            throw Fault(e);
        }
    }

    private StorageException Fault(Exception cause)
    {
        if (Interlocked.CompareExchange(ref _fault, cause, null) is null)
        {
            Log.StoreFaulted(_logger, RootDirectory, cause);
        }

        return Faulted();
    }

    private StorageException Faulted() => new(
        $"The update store at {RootDirectory} failed to make updates durable and accepts no more commits; reopen it to recover.",
        Volatile.Read(ref _fault));

    private void ThrowIfFaulted()
    {
        if (Volatile.Read(ref _fault) is not null)
        {
            throw Faulted();
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfFaulted();
    }

    private static void ValidateTaskId(string taskId)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(taskId);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("The task id is not valid Unicode.", nameof(taskId), e);
        }

        if (bytes is < 1 or > UpdateLimits.MaxTaskIdBytes)
        {
            throw new ArgumentException($"A task id is 1 to {UpdateLimits.MaxTaskIdBytes} UTF-8 bytes; this one is {bytes}.", nameof(taskId));
        }
    }

    private static void ValidateRound(ulong round)
    {
        if (round == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(round), round, "Rounds count from 1.");
        }
    }

    private static void ValidateMetadata(UpdateMetadata metadata)
    {
        static void Check(bool ok, string field, string expected, int actual)
        {
            if (!ok)
            {
                throw new ArgumentException($"{nameof(UpdateMetadata)}.{field} must be {expected} bytes; it is {actual}.", nameof(metadata));
            }
        }

        Check(metadata.UpdateId.Length == UpdateLimits.HashBytes, nameof(metadata.UpdateId), "32", metadata.UpdateId.Length);
        Check(metadata.PayloadSha256.Length == UpdateLimits.HashBytes, nameof(metadata.PayloadSha256), "32", metadata.PayloadSha256.Length);
        Check(metadata.Signature.Length == UpdateLimits.SignatureBytes, nameof(metadata.Signature), "64", metadata.Signature.Length);
        Check(
            metadata.SignerPublicKey.Length is >= 1 and <= UpdateLimits.MaxSignerPublicKeyBytes,
            nameof(metadata.SignerPublicKey),
            $"1 to {UpdateLimits.MaxSignerPublicKeyBytes}",
            metadata.SignerPublicKey.Length);
        Check(
            metadata.Preimage.Length is >= 1 and <= UpdateLimits.MaxPreimageBytes,
            nameof(metadata.Preimage),
            $"1 to {UpdateLimits.MaxPreimageBytes}",
            metadata.Preimage.Length);
    }

    private static byte[] SerializeTaskFile(string taskId)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", 1);
            writer.WriteString("taskId", taskId);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One commit on its way to the journal.</summary>
    private sealed class CommitRequest(
        RoundState round, byte[] updateId, byte[] payloadSha256, byte[] signerPublicKey, byte[] preimage, byte[] signature, long payloadLength, long receivedUnixMs)
    {
        public RoundState Round { get; } = round;

        public byte[] UpdateId { get; } = updateId;

        public byte[] PayloadSha256 { get; } = payloadSha256;

        public byte[] SignerPublicKey { get; } = signerPublicKey;

        /// <summary>Whether the request still holds its reservations. Guarded by the store's gate.</summary>
        public bool Reserved { get; set; } = true;

        public TaskCompletionSource<JournalEntry>? Completion { get; set; }

        public JournalEntry ToEntry(ulong sequence) => new(
            Round.Task.TaskId, Round.Round, sequence, UpdateId, PayloadSha256, payloadLength, SignerPublicKey, preimage, signature, receivedUnixMs);
    }
}
