using System.Diagnostics.CodeAnalysis;

namespace FedAgg.Core.Tensors;

/// <summary>Element types the tensor readers understand. Writers produce <see cref="Float32"/> unless a method says otherwise.</summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are the element types themselves.")]
public enum TensorDType
{
    /// <summary>IEEE 754 binary32, 4 bytes, little-endian on disk (.npy <c>'&lt;f4'</c>, safetensors <c>F32</c>).</summary>
    Float32,

    /// <summary>IEEE 754 binary16, 2 bytes, little-endian on disk (.npy <c>'&lt;f2'</c>, safetensors <c>F16</c>).</summary>
    Float16,

    /// <summary>bfloat16 (the upper 16 bits of a binary32), 2 bytes, little-endian on disk (safetensors <c>BF16</c>).</summary>
    BFloat16,
}

/// <summary>Helpers for <see cref="TensorDType"/>.</summary>
public static class TensorDTypeExtensions
{
    /// <summary>Size of one element in bytes.</summary>
    /// <param name="t">The element type.</param>
    /// <returns>4 for <see cref="TensorDType.Float32"/>, 2 for the 16-bit types.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not a defined value.</exception>
    public static int ElementSize(this TensorDType t) => t switch
    {
        TensorDType.Float32 => 4,
        TensorDType.Float16 => 2,
        TensorDType.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "Unknown tensor element type."),
    };
}
