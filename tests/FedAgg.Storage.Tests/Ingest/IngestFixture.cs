using System.Collections.Concurrent;
using System.Security.Cryptography;
using FedAgg.Core.Identity;
using FedAgg.Core.Updates;
using FedAgg.Storage.Ingest;
using FedAgg.TestKit.Time;

namespace FedAgg.Storage.Tests.Ingest;

/// <summary>A real store in a temp folder, one task with an open round, a server key, and helpers to build updates.</summary>
internal sealed class IngestFixture : IAsyncDisposable, ISubmissionTargets
{
    public const string TaskId = "fashion-mnist";
    public const ulong Elements = 4096;

    private readonly ConcurrentDictionary<string, SubmissionTarget> _targets = new(StringComparer.Ordinal);

    public IngestFixture(ISubmissionGate? gate = null, UpdateIngestOptions? options = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "fedagg-ingest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        _targets[TaskId] = new SubmissionTarget
        {
            TaskId = TaskId,
            ChainId = 31337,
            Ledger = Enumerable.Range(1, 20).Select(static i => (byte)i).ToArray(),
            Codec = PayloadCodec.Float32,
            NumElements = Elements,
            OpenRound = 1,
            OpenRoundBaseModelHash = SHA256.HashData("initial model"u8),
            MaxPayloadBytes = 64 << 20,
        };
        Gate = gate;
        Options = options;
        Store = UpdateStore.Open(new UpdateStoreOptions { RootDirectory = Root }, timeProvider: Time);
        Ingest = new UpdateIngest(Store, this, ServerKey, Time, gate, options);
    }

    public string Root { get; }

    public Ed25519PrivateKey ServerKey { get; } = Ed25519PrivateKey.Generate();

    public ManualTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_000));

    public ISubmissionGate? Gate { get; }

    public UpdateIngestOptions? Options { get; }

    public UpdateStore Store { get; private set; }

    public UpdateIngest Ingest { get; private set; }

    public SubmissionTarget Target
    {
        get => _targets[TaskId];
        set => _targets[TaskId] = value;
    }

    public SubmissionTarget? Find(string taskId) => _targets.GetValueOrDefault(taskId);

    /// <summary>Closes the store as a stopping server would and opens it again (recovery runs).</summary>
    public async Task RestartAsync()
    {
        await Store.DisposeAsync();
        Store = UpdateStore.Open(new UpdateStoreOptions { RootDirectory = Root }, timeProvider: Time);
        Ingest = new UpdateIngest(Store, this, ServerKey, Time, Gate, Options);
    }

    public static byte[] Payload(int seed, ulong elements = Elements)
    {
        var bytes = new byte[checked((int)elements * 4)];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public UpdatePreimage Preimage(byte[] payload, ulong? round = null, int nonce = 0) => new()
    {
        ChainId = Target.ChainId,
        Ledger = Target.Ledger,
        TaskId = TaskId,
        Round = round ?? Target.OpenRound ?? 1,
        BaseModelHash = Target.OpenRoundBaseModelHash,
        Codec = PayloadCodec.Float32,
        NumElements = (ulong)payload.Length / 4,
        PayloadSha256 = SHA256.HashData(payload),
        NumSamples = 100,
        Nonce = BitConverter.GetBytes(nonce).Concat(new byte[12]).ToArray(),
        ExpiresUnixMs = 1_900_000_060_000,
    };

    public Task<SubmitReceipt> SubmitAsync(Ed25519PrivateKey participant, byte[] payload, UpdatePreimage? preimage = null) =>
        Ingest.SubmitAsync(SubmitRequest.Create(preimage ?? Preimage(payload), participant), participant.PeerId, new MemoryStream(payload));

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        ServerKey.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A payload stream that fails the test if anything reads it: rejections must come before the payload.</summary>
internal sealed class UnreadableStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("the payload was read although the header was rejected");

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("the payload was read although the header was rejected");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// Serves <c>bytes</c> and then either ends, or stalls until cancelled; optionally pauses after <c>pauseAfter</c> bytes
/// until <see cref="Resume"/> is called, so tests can hold a submission mid-payload. Generates bytes on the fly when
/// given a generator, so huge payloads never exist in memory.
/// </summary>
internal sealed class ScriptedStream(long length, Func<long, byte> generator, long pauseAfter = -1, bool stallAtEnd = false) : Stream
{
    private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _position;

    public Task Paused => _paused.Task;

    public void Resume() => _resume.TrySetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (pauseAfter >= 0 && _position >= pauseAfter && !_resume.Task.IsCompleted)
        {
            _paused.TrySetResult();
            await _resume.Task.WaitAsync(cancellationToken);
        }

        if (_position >= length)
        {
            if (stallAtEnd)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return 0;
        }

        var limit = pauseAfter > _position ? pauseAfter : length;
        var count = (int)Math.Min(buffer.Length, Math.Min(limit, length) - _position);
        var span = buffer.Span;
        for (var i = 0; i < count; i++)
        {
            span[i] = generator(_position + i);
        }

        _position += count;
        return count;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
