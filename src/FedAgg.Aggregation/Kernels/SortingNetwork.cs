using System.Collections.Concurrent;

namespace FedAgg.Aggregation.Kernels;

/// <summary>
/// Sorting networks for any n (Batcher's merge exchange, Knuth TAOCP 5.2.2 Algorithm M), pruned to the output
/// positions a rule actually reads. Comparators put the smaller value at the lower position.
/// </summary>
internal static class SortingNetwork
{
    private static readonly ConcurrentDictionary<(int N, int First, int Last), int[]> Cache = new();

    /// <summary>Comparator pairs (flattened: a0, b0, a1, b1, …) that leave positions [first, last] sorted.</summary>
    public static int[] For(int n, int first, int last) =>
        Cache.GetOrAdd((n, first, last), static key => Prune(MergeExchange(key.N), key.N, key.First, key.Last));

    /// <summary>The full merge-exchange network for n elements.</summary>
    public static List<(int A, int B)> MergeExchange(int n)
    {
        var comparators = new List<(int, int)>();
        if (n < 2)
        {
            return comparators;
        }

        var t = 0;
        while ((1 << t) < n)
        {
            t++;
        }

        for (var p = 1 << (t - 1); p > 0; p >>= 1)
        {
            int q = 1 << (t - 1), r = 0, d = p;
            while (true)
            {
                for (var i = 0; i < n - d; i++)
                {
                    if ((i & p) == r)
                    {
                        comparators.Add((i, i + d));
                    }
                }

                if (q == p)
                {
                    break;
                }

                d = q - p;
                q >>= 1;
                r = p;
            }
        }

        return comparators;
    }

    private static int[] Prune(List<(int A, int B)> network, int n, int first, int last)
    {
        // Dead-comparator elimination, walking backwards: a comparator matters only if a later kept comparator or
        // a required output reads one of its two positions.
        var live = new bool[n];
        for (var i = first; i <= last; i++)
        {
            live[i] = true;
        }

        var kept = new List<(int A, int B)>(network.Count);
        for (var c = network.Count - 1; c >= 0; c--)
        {
            var (a, b) = network[c];
            if (live[a] || live[b])
            {
                kept.Add((a, b));
                live[a] = live[b] = true;
            }
        }

        kept.Reverse();
        var flat = new int[kept.Count * 2];
        for (var c = 0; c < kept.Count; c++)
        {
            flat[2 * c] = kept[c].A;
            flat[(2 * c) + 1] = kept[c].B;
        }

        return flat;
    }
}
