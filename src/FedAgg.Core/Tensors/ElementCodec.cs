using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FedAgg.Core.Tensors;

/// <summary>Little-endian element decoding (widening to float32) and float32 encoding over raw memory.</summary>
internal static unsafe class ElementCodec
{
    // Keeps every byte span below int.MaxValue bytes.
    private const int ChunkElements = 1 << 26;

    /// <summary>Widens <c>destination.Length</c> elements of <paramref name="dtype"/> starting at <paramref name="source"/>; no alignment needed.</summary>
    public static void Widen(TensorDType dtype, byte* source, Span<float> destination)
    {
        while (destination.Length > 0)
        {
            var n = Math.Min(destination.Length, ChunkElements);
            WidenChunk(dtype, source, destination[..n]);
            source += (long)n * dtype.ElementSize();
            destination = destination[n..];
        }
    }

    /// <summary>Widens little-endian elements held in <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static void Widen(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (source.Length < (long)destination.Length * dtype.ElementSize())
        {
            throw new ArgumentException("The source is shorter than the destination needs.", nameof(source));
        }

        fixed (byte* p = source)
        {
            Widen(dtype, p, destination);
        }
    }

    /// <summary>Writes <paramref name="values"/> as little-endian float32 starting at <paramref name="destination"/>.</summary>
    public static void EncodeFloat32(ReadOnlySpan<float> values, byte* destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            while (values.Length > 0)
            {
                var n = Math.Min(values.Length, ChunkElements);
                MemoryMarshal.AsBytes(values[..n]).CopyTo(new Span<byte>(destination, n * sizeof(float)));
                destination += (long)n * sizeof(float);
                values = values[n..];
            }

            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(new Span<byte>(destination + ((long)i * sizeof(float)), sizeof(float)), values[i]);
        }
    }

    /// <summary>Writes <paramref name="values"/> as little-endian float32 to <paramref name="stream"/>.</summary>
    public static void EncodeFloat32(ReadOnlySpan<float> values, Stream stream)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        Span<byte> buffer = stackalloc byte[4096];
        while (values.Length > 0)
        {
            var n = Math.Min(values.Length, buffer.Length / sizeof(float));
            for (var i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer[(i * sizeof(float))..], values[i]);
            }

            stream.Write(buffer[..(n * sizeof(float))]);
            values = values[n..];
        }
    }

    private static void WidenChunk(TensorDType dtype, byte* source, Span<float> destination)
    {
        switch (dtype)
        {
            case TensorDType.Float32 when BitConverter.IsLittleEndian:
                new ReadOnlySpan<byte>(source, destination.Length * sizeof(float)).CopyTo(MemoryMarshal.AsBytes(destination));
                break;
            case TensorDType.Float32:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.UInt32BitsToSingle(LoadUInt32(source + ((long)i * 4)));
                }

                break;
            case TensorDType.Float16:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BitConverter.UInt16BitsToHalf(LoadUInt16(source + ((long)i * 2)));
                }

                break;
            case TensorDType.BFloat16:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BFloat16Converter.ToSingle(LoadUInt16(source + ((long)i * 2)));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown tensor element type.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort LoadUInt16(byte* p)
    {
        var bits = Unsafe.ReadUnaligned<ushort>(p);
        return BitConverter.IsLittleEndian ? bits : BinaryPrimitives.ReverseEndianness(bits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint LoadUInt32(byte* p)
    {
        var bits = Unsafe.ReadUnaligned<uint>(p);
        return BitConverter.IsLittleEndian ? bits : BinaryPrimitives.ReverseEndianness(bits);
    }
}
