using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Intrinsics;

namespace FedAgg.Aggregation.Kernels;

/// <summary>
/// A sorting network compiled to straight-line code: each comparator becomes two loads, a min, a max and two stores
/// at constant offsets, with no index loads or address arithmetic. Split into pieces of at most
/// <see cref="ComparatorsPerPiece"/> comparators so that each stays under the JIT's full-optimisation size limits.
/// </summary>
internal sealed unsafe class CompiledNetwork
{
    private const int ComparatorsPerPiece = 400;
    private static readonly ConcurrentDictionary<int[], CompiledNetwork> Cache = new(ReferenceEqualityComparer.Instance);
    private static readonly MethodInfo Min = VectorMethod(nameof(Vector512.Min));
    private static readonly MethodInfo Max = VectorMethod(nameof(Vector512.Max));

    private readonly Action<nint>[] _pieces;

    private CompiledNetwork(int[] network)
    {
        var count = network.Length / 2;
        var pieces = (count + ComparatorsPerPiece - 1) / ComparatorsPerPiece;
        _pieces = new Action<nint>[pieces];
        for (var piece = 0; piece < pieces; piece++)
        {
            var method = new DynamicMethod($"SortingNetwork{count}_{piece}", null, [typeof(nint)], typeof(CompiledNetwork).Module, skipVisibility: true);
            var il = method.GetILGenerator();
            var a = il.DeclareLocal(typeof(Vector512<int>));
            var b = il.DeclareLocal(typeof(Vector512<int>));
            var end = Math.Min(count, (piece + 1) * ComparatorsPerPiece);
            for (var c = piece * ComparatorsPerPiece; c < end; c++)
            {
                var offsetA = network[2 * c] * sizeof(Vector512<int>);
                var offsetB = network[(2 * c) + 1] * sizeof(Vector512<int>);
                Address(il, offsetA);
                il.Emit(OpCodes.Ldobj, typeof(Vector512<int>));
                il.Emit(OpCodes.Stloc, a);
                Address(il, offsetB);
                il.Emit(OpCodes.Ldobj, typeof(Vector512<int>));
                il.Emit(OpCodes.Stloc, b);
                Address(il, offsetA);
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldloc, b);
                il.Emit(OpCodes.Call, Min);
                il.Emit(OpCodes.Stobj, typeof(Vector512<int>));
                Address(il, offsetB);
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldloc, b);
                il.Emit(OpCodes.Call, Max);
                il.Emit(OpCodes.Stobj, typeof(Vector512<int>));
            }

            il.Emit(OpCodes.Ret);
            _pieces[piece] = method.CreateDelegate<Action<nint>>();
        }
    }

    /// <summary>The compiled form of <paramref name="network"/> (flattened pairs, as <see cref="SortingNetwork.For"/> returns).</summary>
    public static CompiledNetwork For(int[] network) => Cache.GetOrAdd(network, static n => new CompiledNetwork(n));

    /// <summary>Applies the network to <paramref name="keys"/>.</summary>
    public void Apply(Vector512<int>* keys)
    {
        foreach (var piece in _pieces)
        {
            piece((nint)keys);
        }
    }

    private static void Address(ILGenerator il, int offset)
    {
        il.Emit(OpCodes.Ldarg_0);
        if (offset != 0)
        {
            il.Emit(OpCodes.Ldc_I4, offset);
            il.Emit(OpCodes.Add);
        }
    }

    private static MethodInfo VectorMethod(string name) =>
        typeof(Vector512).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == name && m.IsGenericMethodDefinition && m.GetParameters().Length == 2)
            .MakeGenericMethod(typeof(int));
}
