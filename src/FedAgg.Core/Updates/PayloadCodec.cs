namespace FedAgg.Core.Updates;

/// <summary>How an update's elements are encoded on the wire and on disk (the preimage's <c>codec</c> byte).</summary>
public enum PayloadCodec : byte
{
    /// <summary>IEEE 754 binary32, little-endian.</summary>
    Float32 = 0,

    /// <summary>IEEE 754 binary16, little-endian.</summary>
    Float16 = 1,

    /// <summary>bfloat16 (the upper half of a binary32), little-endian.</summary>
    BFloat16 = 2,
}

/// <summary>Sizes of <see cref="PayloadCodec"/> elements.</summary>
public static class PayloadCodecExtensions
{
    /// <summary>Whether <paramref name="codec"/> is one the protocol defines.</summary>
    public static bool IsDefined(this PayloadCodec codec) => codec <= PayloadCodec.BFloat16;

    /// <summary>Bytes per element: 4 for float32, 2 for float16 and bfloat16.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The codec is not defined.</exception>
    public static int ElementSize(this PayloadCodec codec) => codec switch
    {
        PayloadCodec.Float32 => 4,
        PayloadCodec.Float16 or PayloadCodec.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(codec), codec, "Unknown payload codec."),
    };

    /// <summary>The protocol's lowercase name of the codec (<c>float32</c>, <c>float16</c>, <c>bfloat16</c>).</summary>
    public static string ToWireName(this PayloadCodec codec) => codec switch
    {
        PayloadCodec.Float32 => "float32",
        PayloadCodec.Float16 => "float16",
        PayloadCodec.BFloat16 => "bfloat16",
        _ => $"codec {(byte)codec}",
    };
}
