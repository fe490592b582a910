using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FedAgg.Training.Kernels;

/// <summary>
/// The operations the kernels need at one vector width. Every kernel is written once, generic over this
/// interface; the JIT specialises it per width because every implementation is a struct. All arithmetic is
/// element-wise with a fused multiply-add, so a lane's result is the same bits at every width (the scalar
/// implementation included): kernels never fold lanes together.
/// </summary>
/// <typeparam name="TVec">The vector type (or <see cref="float"/> for the scalar implementation).</typeparam>
internal unsafe interface ISimdOps<TVec>
    where TVec : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TVec Zero { get; }

    /// <summary>Loads <see cref="Count"/> floats (no alignment needed).</summary>
    static abstract TVec Load(float* source);

    /// <summary>Stores <see cref="Count"/> floats (no alignment needed).</summary>
    static abstract void Store(float* destination, TVec value);

    /// <summary>Every lane set to <paramref name="value"/>.</summary>
    static abstract TVec Broadcast(float value);

    /// <summary><c>a * b + c</c> with one rounding.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    /// <summary><c>a * b</c>.</summary>
    static abstract TVec Multiply(TVec a, TVec b);

    /// <summary><c>a / b</c>.</summary>
    static abstract TVec Divide(TVec a, TVec b);

    /// <summary><c>a + b</c>.</summary>
    static abstract TVec Add(TVec a, TVec b);

    /// <summary>The square root of each lane.</summary>
    static abstract TVec Sqrt(TVec a);

    /// <summary><c>max(a, 0)</c>; a NaN lane stays NaN-free only if the input is (inputs are finite here).</summary>
    static abstract TVec Relu(TVec a);

    /// <summary><c>mask &gt; 0 ? value : 0</c> per lane (the ReLU derivative applied to an upstream gradient).</summary>
    static abstract TVec WherePositive(TVec mask, TVec value);

    /// <summary><c>|a| &lt; 2^-126 ? 0 : a</c> per lane: subnormals become zero (x86 handles them about twenty times slower).</summary>
    static abstract TVec FlushSubnormal(TVec a);
}

/// <summary>Constants shared by the implementations.</summary>
internal static class SimdConstants
{
    /// <summary>The smallest positive normal float, 2^-126.</summary>
    public const float MinNormal = 1.17549435E-38f;
}

/// <summary>512-bit vectors (AVX-512).</summary>
internal readonly unsafe struct Simd512 : ISimdOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector512<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> a) => Vector512.ConditionalSelect(Vector512.GreaterThan(a, Vector512<float>.Zero), a, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WherePositive(Vector512<float> mask, Vector512<float> value) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(mask, Vector512<float>.Zero), value, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FlushSubnormal(Vector512<float> a) =>
        Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.Abs(a), Vector512.Create(SimdConstants.MinNormal)), a, Vector512<float>.Zero);
}

/// <summary>256-bit vectors (AVX2 and FMA).</summary>
internal readonly unsafe struct Simd256 : ISimdOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector256<float> value) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> a) => Vector256.ConditionalSelect(Vector256.GreaterThan(a, Vector256<float>.Zero), a, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WherePositive(Vector256<float> mask, Vector256<float> value) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(mask, Vector256<float>.Zero), value, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FlushSubnormal(Vector256<float> a) =>
        Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Abs(a), Vector256.Create(SimdConstants.MinNormal)), a, Vector256<float>.Zero);
}

/// <summary>One float at a time: the reference every vector width must agree with bit for bit, and the tail handler.</summary>
internal readonly unsafe struct SimdScalar : ISimdOps<float>
{
    public static int Count => 1;

    public static float Zero => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(float* source) => *source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, float value) => *destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Divide(float a, float b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sqrt(float a) => MathF.Sqrt(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Relu(float a) => a > 0f ? a : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float WherePositive(float mask, float value) => mask > 0f ? value : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FlushSubnormal(float a) => MathF.Abs(a) >= SimdConstants.MinNormal ? a : 0f;
}
