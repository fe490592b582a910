using System.Buffers;
using System.Buffers.Binary;
using FedAgg.Aggregation;
using FedAgg.Core.Updates;

namespace FedAgg.Verification;

/// <summary>
/// Updates read block by block from seekable payload streams (the bytes exactly as submitted), widened to float32
/// exactly (float16 and bfloat16 are subsets of float32): memory stays O(block), whatever the model size.
/// </summary>
public sealed class PayloadUpdateSource : UpdateSource
{
    private readonly Stream[] _streams;
    private readonly string[] _names;
    private readonly PayloadCodec _codec;
    private readonly long _length;

    /// <summary>Reads <paramref name="streams"/> (owned: disposed with the source) as updates of <paramref name="length"/> elements.</summary>
    /// <exception cref="ArgumentException">A stream is not seekable and readable, or is not exactly <c>length × elementSize</c> bytes.</exception>
    public PayloadUpdateSource(IReadOnlyList<Stream> streams, IReadOnlyList<string> names, PayloadCodec codec, long length)
    {
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(names);
        _streams = [.. streams];
        _names = [.. names];
        _codec = codec;
        _length = length;
        for (var i = 0; i < _streams.Length; i++)
        {
            if (!_streams[i].CanSeek || !_streams[i].CanRead || _streams[i].Length != length * codec.ElementSize())
            {
                throw new ArgumentException($"{NameOf(i)} must be a readable, seekable stream of {length * codec.ElementSize()} bytes", nameof(streams));
            }
        }
    }

    /// <inheritdoc/>
    public override int Count => _streams.Length;

    /// <inheritdoc/>
    public override long Length => _length;

    /// <inheritdoc/>
    public override string NameOf(int index) => index < _names.Length ? _names[index] : base.NameOf(index);

    /// <inheritdoc/>
    public override void ReadRow(int index, long start, Span<float> destination)
    {
        var size = _codec.ElementSize();
        var byteCount = destination.Length * size;
        var buffer = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            var stream = _streams[index];
            lock (stream)
            {
                stream.Position = start * size;
                stream.ReadExactly(buffer, 0, byteCount);
            }

            var bytes = buffer.AsSpan(0, byteCount);
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = _codec switch
                {
                    PayloadCodec.Float32 => BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]),
                    PayloadCodec.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]),
                    _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16),
                };
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var stream in _streams)
            {
                stream.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
