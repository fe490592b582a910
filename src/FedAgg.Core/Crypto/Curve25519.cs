using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace FedAgg.Core.Crypto;

/// <summary>
/// The X25519 function of RFC 7748 §5: a constant-time Montgomery ladder with field elements in five 51-bit limbs and
/// 64×64→128-bit products. Every libp2p Noise handshake runs three of these per side; BouncyCastle's portable version
/// (ten 26-bit limbs in <c>int[]</c>) took a quarter of a server's CPU in a handshake storm, and this one takes about
/// 0.8 of its time (<c>./bench.sh updates</c>). The platform's OpenSSL 3 was tried through P/Invoke and is slower per
/// call (its EVP key objects cost more than the ladder). Checked against BouncyCastle, a BigInteger transcription of
/// the RFC's pseudo-code and the RFC's vectors in the tests.
/// </summary>
/// <remarks>
/// Limb bounds of the managed ladder (the reason no step overflows): every multiplication or squaring returns limbs
/// below 2^51 + 2^13; a sum of two such elements stays below 2^52.01; a difference is computed as a + 2p − b and stays
/// below 2^52.6, with b always a product output, so no limb goes negative. With inputs below 2^52.6, each 128-bit column
/// sum stays below 2^113, and the top carry times 19 fits in 64 bits.
/// </remarks>
public static class Curve25519
{
    /// <summary>The length of scalars, u-coordinates and results.</summary>
    public const int KeyLength = 32;

    private const ulong Mask51 = (1UL << 51) - 1;

    // 2p in limbs: the bias added before subtracting, so that no limb goes negative.
    private const ulong TwoP0 = 0xFFFFFFFFFFFDA; // 2 * (2^51 - 19)
    private const ulong TwoP1234 = 0xFFFFFFFFFFFFE; // 2 * (2^51 - 1)

    private const ulong A24 = 121665; // (486662 - 2) / 4, RFC 7748 §5

    /// <summary>X25519(<paramref name="scalar"/>, <paramref name="uCoordinate"/>) into <paramref name="result"/>.</summary>
    /// <param name="scalar">32 bytes; clamped as RFC 7748 §5 says (the caller's bytes are not changed).</param>
    /// <param name="uCoordinate">32 bytes, little-endian; the top bit is ignored and non-canonical values are accepted, as the RFC requires.</param>
    /// <param name="result">32 bytes for the u-coordinate of the product. All zeros when <paramref name="uCoordinate"/> has small order:
    /// callers doing Diffie–Hellman should refuse that.</param>
    public static void ScalarMult(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> uCoordinate, Span<byte> result)
    {
        RequireLength(scalar, nameof(scalar));
        RequireLength(uCoordinate, nameof(uCoordinate));
        if (result.Length < KeyLength)
        {
            throw new ArgumentException($"the result needs {KeyLength} bytes", nameof(result));
        }

        Span<byte> k = stackalloc byte[KeyLength];
        scalar.CopyTo(k);
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;

        Decode(uCoordinate, out var x1);
        Ladder(k, in x1, out var x2, out var z2);
        CryptographicOperations.ZeroMemory(k);

        Invert(out var zInverse, in z2);
        Mul(out var u, in x2, in zInverse);
        Encode(in u, result);
    }

    /// <summary>The public key of <paramref name="scalar"/>: X25519(<paramref name="scalar"/>, 9), by the same ladder (a fixed-base
    /// method with precomputed tables, as BouncyCastle's <c>X25519.ScalarMultBase</c>, is faster for key generation).</summary>
    /// <param name="scalar">32 bytes (clamped, as in <see cref="ScalarMult"/>).</param>
    /// <param name="result">32 bytes for the public key.</param>
    public static void ScalarMultBase(ReadOnlySpan<byte> scalar, Span<byte> result)
    {
        RequireLength(scalar, nameof(scalar));
        if (result.Length < KeyLength)
        {
            throw new ArgumentException($"the result needs {KeyLength} bytes", nameof(result));
        }

        Span<byte> basePoint = stackalloc byte[KeyLength];
        basePoint.Clear();
        basePoint[0] = 9;
        ScalarMult(scalar, basePoint, result);
    }

    private static void RequireLength(ReadOnlySpan<byte> value, string name)
    {
        if (value.Length != KeyLength)
        {
            throw new ArgumentException($"X25519 inputs are {KeyLength} bytes, not {value.Length}", name);
        }
    }

    /// <summary>RFC 7748 §5's ladder, returning the projective (X:Z) of k·u.</summary>
    private static void Ladder(ReadOnlySpan<byte> k, in FieldElement x1, out FieldElement x2, out FieldElement z2)
    {
        x2 = FieldElement.One;
        z2 = default;
        var x3 = x1;
        var z3 = FieldElement.One;
        ulong swap = 0;

        for (var t = 254; t >= 0; t--)
        {
            var bit = (ulong)((k[t >> 3] >> (t & 7)) & 1);
            swap ^= bit;
            ConditionalSwap(ref x2, ref x3, swap);
            ConditionalSwap(ref z2, ref z3, swap);
            swap = bit;

            Add(out var a, in x2, in z2);
            Square(out var aa, in a);
            Sub(out var b, in x2, in z2);
            Square(out var bb, in b);
            Sub(out var e, in aa, in bb);
            Add(out var c, in x3, in z3);
            Sub(out var d, in x3, in z3);
            Mul(out var da, in d, in a);
            Mul(out var cb, in c, in b);

            Add(out var sum, in da, in cb);
            Square(out x3, in sum);
            Sub(out var difference, in da, in cb);
            Square(out var differenceSquared, in difference);
            Mul(out z3, in x1, in differenceSquared);

            Mul(out x2, in aa, in bb);
            MulSmall(out var scaled, in e, A24);
            Add(out var t0, in aa, in scaled);
            Mul(out z2, in e, in t0);
        }

        ConditionalSwap(ref x2, ref x3, swap);
        ConditionalSwap(ref z2, ref z3, swap);
    }

    private static void Decode(ReadOnlySpan<byte> bytes, out FieldElement element)
    {
        var in0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var in1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        var in2 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        var in3 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]) & 0x7FFFFFFFFFFFFFFF;
        element.L0 = in0 & Mask51;
        element.L1 = ((in0 >> 51) | (in1 << 13)) & Mask51;
        element.L2 = ((in1 >> 38) | (in2 << 26)) & Mask51;
        element.L3 = ((in2 >> 25) | (in3 << 39)) & Mask51;
        element.L4 = in3 >> 12;
    }

    /// <summary>The canonical little-endian bytes (fully reduced below p).</summary>
    private static void Encode(in FieldElement element, Span<byte> bytes)
    {
        ulong t0 = element.L0, t1 = element.L1, t2 = element.L2, t3 = element.L3, t4 = element.L4;

        // Two carry passes bring every limb below 2^51 (the value below 2^255).
        CarryUp(ref t0, ref t1, ref t2, ref t3, ref t4);
        t0 += 19 * (t4 >> 51); t4 &= Mask51;
        CarryUp(ref t0, ref t1, ref t2, ref t3, ref t4);
        t0 += 19 * (t4 >> 51); t4 &= Mask51;

        // Now 0 ≤ t < 2^255. Add 19: the value reaches 2^255 exactly when t ≥ p, and that overflow is folded back.
        t0 += 19;
        CarryUp(ref t0, ref t1, ref t2, ref t3, ref t4);
        t0 += 19 * (t4 >> 51); t4 &= Mask51;

        // Now t + 19 mod 2^255 sits in [19, 2^255); adding 2^255 − 19 and dropping bit 255 gives t mod p.
        t0 += (1UL << 51) - 19;
        t1 += (1UL << 51) - 1;
        t2 += (1UL << 51) - 1;
        t3 += (1UL << 51) - 1;
        t4 += (1UL << 51) - 1;
        CarryUp(ref t0, ref t1, ref t2, ref t3, ref t4);
        t4 &= Mask51;

        BinaryPrimitives.WriteUInt64LittleEndian(bytes, t0 | (t1 << 51));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], (t1 >> 13) | (t2 << 38));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[16..], (t2 >> 26) | (t3 << 25));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[24..], (t3 >> 39) | (t4 << 12));
    }

    /// <summary>Moves each limb's bits above 51 into the next limb (the top limb keeps its carry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CarryUp(ref ulong t0, ref ulong t1, ref ulong t2, ref ulong t3, ref ulong t4)
    {
        t1 += t0 >> 51; t0 &= Mask51;
        t2 += t1 >> 51; t1 &= Mask51;
        t3 += t2 >> 51; t2 &= Mask51;
        t4 += t3 >> 51; t3 &= Mask51;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ConditionalSwap(ref FieldElement a, ref FieldElement b, ulong swap)
    {
        var mask = 0UL - swap;
        ulong x;
        x = mask & (a.L0 ^ b.L0); a.L0 ^= x; b.L0 ^= x;
        x = mask & (a.L1 ^ b.L1); a.L1 ^= x; b.L1 ^= x;
        x = mask & (a.L2 ^ b.L2); a.L2 ^= x; b.L2 ^= x;
        x = mask & (a.L3 ^ b.L3); a.L3 ^= x; b.L3 ^= x;
        x = mask & (a.L4 ^ b.L4); a.L4 ^= x; b.L4 ^= x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(out FieldElement r, in FieldElement a, in FieldElement b)
    {
        r.L0 = a.L0 + b.L0;
        r.L1 = a.L1 + b.L1;
        r.L2 = a.L2 + b.L2;
        r.L3 = a.L3 + b.L3;
        r.L4 = a.L4 + b.L4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sub(out FieldElement r, in FieldElement a, in FieldElement b)
    {
        r.L0 = a.L0 + TwoP0 - b.L0;
        r.L1 = a.L1 + TwoP1234 - b.L1;
        r.L2 = a.L2 + TwoP1234 - b.L2;
        r.L3 = a.L3 + TwoP1234 - b.L3;
        r.L4 = a.L4 + TwoP1234 - b.L4;
    }

    /// <summary>
    /// a·b in 128 bits. With BMI2 the high half comes from <c>mulx</c> and the low half from <c>imul</c>, both straight into
    /// registers: <see cref="Math.BigMul(ulong, ulong)"/> returns the low half through memory, which costs this code a third of its speed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt128 Product(ulong a, ulong b) =>
        Bmi2.X64.IsSupported ? new UInt128(Bmi2.X64.MultiplyNoFlags(a, b), a * b) : Math.BigMul(a, b);

    /// <summary>Carries five 128-bit column sums into a field element with limbs below 2^51 + 2^13.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Reduce(out FieldElement r, UInt128 t0, UInt128 t1, UInt128 t2, UInt128 t3, UInt128 t4)
    {
        var r0 = (ulong)t0 & Mask51;
        t1 += (ulong)(t0 >> 51);
        var r1 = (ulong)t1 & Mask51;
        t2 += (ulong)(t1 >> 51);
        var r2 = (ulong)t2 & Mask51;
        t3 += (ulong)(t2 >> 51);
        var r3 = (ulong)t3 & Mask51;
        t4 += (ulong)(t3 >> 51);
        var r4 = (ulong)t4 & Mask51;
        r0 += (ulong)(t4 >> 51) * 19;
        r.L1 = r1 + (r0 >> 51);
        r.L0 = r0 & Mask51;
        r.L2 = r2;
        r.L3 = r3;
        r.L4 = r4;
    }

    // Mul and Square carry each column into the next as soon as it is summed, so only one 128-bit sum is alive at a time:
    // with all five alive the JIT spills a third of the instructions to the stack. Inputs are read into locals first, so
    // r may alias a or b.
    /// <remarks><paramref name="r"/> must not alias <paramref name="b"/>: b's limbs are read from memory as they are needed
    /// (fourteen values held in registers would not fit next to the accumulator, and the JIT would spill them).</remarks>
    private static void Mul(out FieldElement r, in FieldElement a, in FieldElement b)
    {
        Debug.Assert(!Unsafe.AreSame(in r, in b), "Mul's result must not alias its second operand");
        ulong a0 = a.L0, a1 = a.L1, a2 = a.L2, a3 = a.L3, a4 = a.L4;

        var t = Product(a0, b.L0) + Product(a1, b.L4 * 19) + Product(a2, b.L3 * 19) + Product(a3, b.L2 * 19) + Product(a4, b.L1 * 19);
        var r0 = (ulong)t & Mask51;
        t = Product(a0, b.L1) + Product(a1, b.L0) + Product(a2, b.L4 * 19) + Product(a3, b.L3 * 19) + Product(a4, b.L2 * 19) + (ulong)(t >> 51);
        var r1 = (ulong)t & Mask51;
        t = Product(a0, b.L2) + Product(a1, b.L1) + Product(a2, b.L0) + Product(a3, b.L4 * 19) + Product(a4, b.L3 * 19) + (ulong)(t >> 51);
        r.L2 = (ulong)t & Mask51;
        t = Product(a0, b.L3) + Product(a1, b.L2) + Product(a2, b.L1) + Product(a3, b.L0) + Product(a4, b.L4 * 19) + (ulong)(t >> 51);
        r.L3 = (ulong)t & Mask51;
        t = Product(a0, b.L4) + Product(a1, b.L3) + Product(a2, b.L2) + Product(a3, b.L1) + Product(a4, b.L0) + (ulong)(t >> 51);
        r.L4 = (ulong)t & Mask51;
        r0 += (ulong)(t >> 51) * 19;
        r.L1 = r1 + (r0 >> 51);
        r.L0 = r0 & Mask51;
    }

    private static void Square(out FieldElement r, in FieldElement a)
    {
        ulong a0 = a.L0, a1 = a.L1, a2 = a.L2, a3 = a.L3, a4 = a.L4;
        ulong a0x2 = a0 * 2, a1x2 = a1 * 2, a2x2 = a2 * 2, a3x2 = a3 * 2;
        ulong a3x19 = a3 * 19, a4x19 = a4 * 19;

        var t = Product(a0, a0) + Product(a1x2, a4x19) + Product(a2x2, a3x19);
        var r0 = (ulong)t & Mask51;
        t = Product(a0x2, a1) + Product(a2x2, a4x19) + Product(a3, a3x19) + (ulong)(t >> 51);
        var r1 = (ulong)t & Mask51;
        t = Product(a0x2, a2) + Product(a1, a1) + Product(a3x2, a4x19) + (ulong)(t >> 51);
        r.L2 = (ulong)t & Mask51;
        t = Product(a0x2, a3) + Product(a1x2, a2) + Product(a4, a4x19) + (ulong)(t >> 51);
        r.L3 = (ulong)t & Mask51;
        t = Product(a0x2, a4) + Product(a1x2, a3) + Product(a2, a2) + (ulong)(t >> 51);
        r.L4 = (ulong)t & Mask51;
        r0 += (ulong)(t >> 51) * 19;
        r.L1 = r1 + (r0 >> 51);
        r.L0 = r0 & Mask51;
    }

    private static void SquareTimes(out FieldElement r, in FieldElement a, int times)
    {
        Square(out r, in a);
        for (var i = 1; i < times; i++)
        {
            Square(out r, in r);
        }
    }

    /// <summary>a·k for a small constant k (below 2^17), carried, since the plain products would pass 2^64.</summary>
    private static void MulSmall(out FieldElement r, in FieldElement a, ulong k) =>
        Reduce(out r, Product(a.L0, k), Product(a.L1, k), Product(a.L2, k), Product(a.L3, k), Product(a.L4, k));

    /// <summary>z^(p−2) = 1/z (0 for 0), by the usual chain of 254 squarings and 11 multiplications.</summary>
    private static void Invert(out FieldElement r, in FieldElement z)
    {
        Square(out var z2, in z);                       // 2
        SquareTimes(out var t, in z2, 2);               // 8
        Mul(out var z9, in t, in z);                    // 9
        Mul(out var z11, in z9, in z2);                 // 11
        Square(out t, in z11);                          // 22
        Mul(out var z2_5_0, in t, in z9);               // 2^5 - 1
        SquareTimes(out t, in z2_5_0, 5);
        Mul(out var z2_10_0, in t, in z2_5_0);          // 2^10 - 1
        SquareTimes(out t, in z2_10_0, 10);
        Mul(out var z2_20_0, in t, in z2_10_0);         // 2^20 - 1
        SquareTimes(out t, in z2_20_0, 20);
        Mul(out var z2_40_0, in t, in z2_20_0);         // 2^40 - 1
        SquareTimes(out t, in z2_40_0, 10);
        Mul(out var z2_50_0, in t, in z2_10_0);         // 2^50 - 1
        SquareTimes(out t, in z2_50_0, 50);
        Mul(out var z2_100_0, in t, in z2_50_0);        // 2^100 - 1
        SquareTimes(out t, in z2_100_0, 100);
        Mul(out var z2_200_0, in t, in z2_100_0);       // 2^200 - 1
        SquareTimes(out t, in z2_200_0, 50);
        Mul(out var z2_250_0, in t, in z2_50_0);        // 2^250 - 1
        SquareTimes(out t, in z2_250_0, 5);             // 2^255 - 2^5
        Mul(out r, in t, in z11);                       // 2^255 - 21 = p - 2
    }

    /// <summary>An element of GF(2^255 − 19) in five limbs of (about) 51 bits, value Σ Lᵢ·2^(51·i).</summary>
    private struct FieldElement
    {
        public ulong L0;
        public ulong L1;
        public ulong L2;
        public ulong L3;
        public ulong L4;

        public static FieldElement One => new() { L0 = 1 };
    }
}
