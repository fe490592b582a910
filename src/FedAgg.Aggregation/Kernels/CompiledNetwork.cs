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
        var order = Schedule(network);
        var count = order.Length;
        var pieces = (count + ComparatorsPerPiece - 1) / ComparatorsPerPiece;
        _pieces = new Action<nint>[pieces];
        for (var piece = 0; piece < pieces; piece++)
        {
            var method = new DynamicMethod($"SortingNetwork{count}_{piece}", null, [typeof(nint)], typeof(CompiledNetwork).Module, skipVisibility: true);
            var il = method.GetILGenerator();
            var cache = new RegisterCache(il);
            var temp = il.DeclareLocal(typeof(Vector512<int>));
            var end = Math.Min(count, (piece + 1) * ComparatorsPerPiece);
            for (var k = piece * ComparatorsPerPiece; k < end; k++)
            {
                var c = order[k];
                var a = cache.Acquire(network[2 * c], network[(2 * c) + 1]);
                var b = cache.Acquire(network[(2 * c) + 1], network[2 * c]);
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldloc, b);
                il.Emit(OpCodes.Call, Min);
                il.Emit(OpCodes.Stloc, temp);
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Ldloc, b);
                il.Emit(OpCodes.Call, Max);
                il.Emit(OpCodes.Stloc, b);
                il.Emit(OpCodes.Ldloc, temp);
                il.Emit(OpCodes.Stloc, a);
            }

            cache.FlushAll();
            il.Emit(OpCodes.Ret);
            _pieces[piece] = method.CreateDelegate<Action<nint>>();
        }
    }

    /// <summary>
    /// A topological order of the comparators (each wire's comparators keep their relative order) that greedily
    /// prefers comparators whose positions were touched most recently, so the register cache hits more often.
    /// </summary>
    private static int[] Schedule(int[] network)
    {
        var count = network.Length / 2;
        var wires = 0;
        foreach (var position in network)
        {
            wires = Math.Max(wires, position + 1);
        }

        // Per wire, the queue of comparators in network order; a comparator is ready when it heads both queues.
        var queues = new Queue<int>[wires];
        for (var w = 0; w < wires; w++)
        {
            queues[w] = new Queue<int>();
        }

        for (var c = 0; c < count; c++)
        {
            queues[network[2 * c]].Enqueue(c);
            queues[network[(2 * c) + 1]].Enqueue(c);
        }

        var lastUse = new long[wires];
        Array.Fill(lastUse, -1);
        var ready = new SortedSet<int>();
        for (var w = 0; w < wires; w++)
        {
            if (queues[w].Count > 0 && IsReady(queues[w].Peek()))
            {
                ready.Add(queues[w].Peek());
            }
        }

        var order = new int[count];
        for (var step = 0; step < count; step++)
        {
            var best = -1;
            long bestScore = long.MinValue;
            foreach (var c in ready)
            {
                var score = Math.Min(lastUse[network[2 * c]], lastUse[network[(2 * c) + 1]]);
                if (score > bestScore)
                {
                    best = c;
                    bestScore = score;
                }
            }

            ready.Remove(best);
            order[step] = best;
            var a = network[2 * best];
            var b = network[(2 * best) + 1];
            lastUse[a] = lastUse[b] = step;
            queues[a].Dequeue();
            queues[b].Dequeue();
            foreach (var w in (ReadOnlySpan<int>)[a, b])
            {
                if (queues[w].Count > 0 && IsReady(queues[w].Peek()))
                {
                    ready.Add(queues[w].Peek());
                }
            }
        }

        return order;

        bool IsReady(int c) => queues[network[2 * c]].Peek() == c && queues[network[(2 * c) + 1]].Peek() == c;
    }

    /// <summary>Keeps recently used positions in IL locals, which the JIT places in vector registers.</summary>
    private sealed class RegisterCache(ILGenerator il)
    {
        private const int Capacity = 26;
        private readonly List<(int Position, LocalBuilder Local)> _entries = [];
        private readonly Stack<LocalBuilder> _free = new();

        /// <summary>The local holding <paramref name="position"/>, loading it (and evicting the least recent other than <paramref name="keep"/>) if needed.</summary>
        public LocalBuilder Acquire(int position, int keep)
        {
            for (var i = 0; i < _entries.Count; i++)
            {
                if (_entries[i].Position == position)
                {
                    var hit = _entries[i];
                    _entries.RemoveAt(i);
                    _entries.Add(hit);
                    return hit.Local;
                }
            }

            if (_entries.Count == Capacity)
            {
                var victim = _entries[0].Position == keep ? 1 : 0;
                var (evicted, local) = _entries[victim];
                _entries.RemoveAt(victim);
                Address(il, evicted);
                il.Emit(OpCodes.Ldloc, local);
                il.Emit(OpCodes.Stobj, typeof(Vector512<int>));
                _free.Push(local);
            }

            var target = _free.Count > 0 ? _free.Pop() : il.DeclareLocal(typeof(Vector512<int>));
            Address(il, position);
            il.Emit(OpCodes.Ldobj, typeof(Vector512<int>));
            il.Emit(OpCodes.Stloc, target);
            _entries.Add((position, target));
            return target;
        }

        public void FlushAll()
        {
            foreach (var (position, local) in _entries)
            {
                Address(il, position);
                il.Emit(OpCodes.Ldloc, local);
                il.Emit(OpCodes.Stobj, typeof(Vector512<int>));
            }

            _entries.Clear();
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

    private static void Address(ILGenerator il, int position)
    {
        var offset = position * sizeof(Vector512<int>);
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
