using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using FedAgg.Core.Codecs;

namespace FedAgg.Libp2p.Benchmarks;

/// <summary>
/// The byte-level workloads, written once over <see cref="IDuplexPipe"/> so that a libp2p stream and a raw TCP
/// connection run exactly the same code. Bulk transfers announce their length in an 8-byte header and are acknowledged
/// with the 8-byte count received, so no half-close is needed.
/// </summary>
internal static class Workloads
{
    public const int WriteChunkBytes = 64 * 1024;

    private static readonly byte[] Pattern = CreatePattern();

    /// <summary>Sends an 8-byte length and <paramref name="bytes"/> bytes in 64 KiB writes, then waits for the acknowledgement.</summary>
    public static async Task SendBulkAsync(IDuplexPipe pipe, long bytes, CancellationToken cancellationToken)
    {
        var header = pipe.Output.GetSpan(8);
        BinaryPrimitives.WriteInt64LittleEndian(header, bytes);
        pipe.Output.Advance(8);
        long sent = 0;
        while (sent < bytes)
        {
            var take = (int)Math.Min(WriteChunkBytes, bytes - sent);
            pipe.Output.Write(Pattern.AsSpan((int)(sent % (Pattern.Length - WriteChunkBytes)), take));
            sent += take;
            var flush = await pipe.Output.FlushAsync(cancellationToken);
            if (flush.IsCompleted)
            {
                throw new InvalidOperationException("the receiver stopped reading");
            }
        }

        var received = await ReadInt64Async(pipe.Input, cancellationToken);
        if (received != bytes)
        {
            throw new InvalidOperationException($"the receiver counted {received} bytes, not {bytes}");
        }
    }

    /// <summary>The other end of <see cref="SendBulkAsync"/>: reads the length, consumes that many bytes, acknowledges.</summary>
    public static async Task ReceiveBulkAsync(IDuplexPipe pipe, CancellationToken cancellationToken)
    {
        var expected = await ReadInt64Async(pipe.Input, cancellationToken);
        long received = 0;
        while (received < expected)
        {
            var result = await pipe.Input.ReadAsync(cancellationToken);
            var take = Math.Min(result.Buffer.Length, expected - received);
            received += take;
            pipe.Input.AdvanceTo(result.Buffer.GetPosition(take));
            if (received < expected && result.IsCompleted)
            {
                throw new InvalidOperationException($"the stream ended after {received} of {expected} bytes");
            }
        }

        await WriteInt64Async(pipe.Output, received, cancellationToken);
    }

    /// <summary>
    /// Writes <paramref name="count"/> uvarint-length-prefixed messages the way <see cref="Libp2pStream.WriteMessageAsync"/>
    /// does (for the raw TCP baseline), then a zero-length message as the end marker, and waits for the count.
    /// </summary>
    public static async Task SendMessagesRawAsync(IDuplexPipe pipe, byte[] message, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i <= count; i++)
        {
            var body = i < count ? message : [];
            UnsignedVarint.Write((ulong)body.Length, pipe.Output);
            var remaining = body.AsMemory();
            do
            {
                var chunk = remaining[..Math.Min(remaining.Length, WriteChunkBytes)];
                pipe.Output.Write(chunk.Span);
                remaining = remaining[chunk.Length..];
                await pipe.Output.FlushAsync(cancellationToken);
            }
            while (!remaining.IsEmpty);
        }

        var received = await ReadInt64Async(pipe.Input, cancellationToken);
        if (received != count)
        {
            throw new InvalidOperationException($"the receiver counted {received} messages, not {count}");
        }
    }

    /// <summary>The other end of <see cref="SendMessagesRawAsync"/>: each message is copied into a new array, as ReadMessageAsync does.</summary>
    public static async Task ReceiveMessagesRawAsync(IDuplexPipe pipe, CancellationToken cancellationToken)
    {
        long count = 0;
        while (true)
        {
            ulong length;
            while (true)
            {
                var result = await pipe.Input.ReadAsync(cancellationToken);
                var status = UnsignedVarint.TryRead(result.Buffer, out length, out var lengthBytes);
                if (status == VarintStatus.Done)
                {
                    pipe.Input.AdvanceTo(result.Buffer.GetPosition(lengthBytes));
                    break;
                }

                if (status == VarintStatus.Invalid || result.IsCompleted)
                {
                    throw new InvalidOperationException("bad or missing message length");
                }

                pipe.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }

            if (length == 0)
            {
                break;
            }

            var message = new byte[length];
            var filled = 0;
            while (filled < message.Length)
            {
                var result = await pipe.Input.ReadAsync(cancellationToken);
                var take = (int)Math.Min(result.Buffer.Length, message.Length - filled);
                result.Buffer.Slice(0, take).CopyTo(message.AsSpan(filled));
                filled += take;
                pipe.Input.AdvanceTo(result.Buffer.GetPosition(take));
            }

            count++;
        }

        await WriteInt64Async(pipe.Output, count, cancellationToken);
    }

    /// <summary>Sends 32 bytes and waits for them to come back; returns the round-trip time in microseconds.</summary>
    public static async Task<double> PingOnceAsync(IDuplexPipe pipe, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        pipe.Output.Write(Pattern.AsSpan(0, 32));
        await pipe.Output.FlushAsync(cancellationToken);
        var result = await pipe.Input.ReadAtLeastAsync(32, cancellationToken);
        if (result.Buffer.Length < 32)
        {
            throw new InvalidOperationException("the ping stream ended");
        }

        pipe.Input.AdvanceTo(result.Buffer.GetPosition(32));
        return Stopwatch.GetElapsedTime(started).TotalMicroseconds;
    }

    /// <summary>Echoes 32-byte blocks until the input ends (the raw TCP twin of libp2p's ping handler).</summary>
    public static async Task ServePingsAsync(IDuplexPipe pipe, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await pipe.Input.ReadAtLeastAsync(32, cancellationToken);
            if (result.Buffer.Length < 32)
            {
                pipe.Input.AdvanceTo(result.Buffer.End);
                return;
            }

            foreach (var segment in result.Buffer.Slice(0, 32))
            {
                pipe.Output.Write(segment.Span);
            }

            pipe.Input.AdvanceTo(result.Buffer.GetPosition(32));
            await pipe.Output.FlushAsync(cancellationToken);
        }
    }

    public static async Task<long> ReadInt64Async(PipeReader input, CancellationToken cancellationToken)
    {
        var result = await input.ReadAtLeastAsync(8, cancellationToken);
        if (result.Buffer.Length < 8)
        {
            input.AdvanceTo(result.Buffer.End);
            throw new InvalidOperationException("the stream ended before an 8-byte count");
        }

        Span<byte> bytes = stackalloc byte[8];
        result.Buffer.Slice(0, 8).CopyTo(bytes);
        input.AdvanceTo(result.Buffer.GetPosition(8));
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    public static async Task WriteInt64Async(PipeWriter output, long value, CancellationToken cancellationToken)
    {
        BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
        await output.FlushAsync(cancellationToken);
    }

    /// <summary>A megabyte-sized block of varied bytes (contents do not matter to the stack, but zeros would flatter nothing).</summary>
    public static byte[] CreatePattern()
    {
        var bytes = new byte[(1 << 20) + WriteChunkBytes];
        new Random(42).NextBytes(bytes);
        return bytes;
    }
}
