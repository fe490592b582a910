using System.Runtime.Intrinsics;
using FedAgg.Aggregation.Kernels;

namespace FedAgg.Aggregation;

public sealed partial class AggregationEngine
{
    private const int MeanSegment = CoordinateKernels.MeanSegment;

    /// <summary>Per-worker scratch for one pass; all native, released when the pass ends.</summary>
    private sealed unsafe class Worker(UpdateSource source, int rows, int block, FiniteTracker? tracker) : IDisposable
    {
        public RowFetcher Fetcher { get; } = new(source, rows, block);

        /// <summary>Set in the first pass over the raw inputs: kernels check rows for NaN/±Inf while they are in cache.</summary>
        public FiniteTracker? Tracker { get; } = tracker;

        /// <summary>Checks the fetched rows (slot k holds update rows[k]) over the block.</summary>
        public void CheckFetched(ReadOnlySpan<int> rows, long start, int length)
        {
            if (Tracker is { } tracker)
            {
                for (var k = 0; k < rows.Length; k++)
                {
                    tracker.Check(rows[k], start, (float*)Fetcher.Rows[k], length);
                }
            }
        }

        public NativeBuffer<float> Output { get; } = new(block, clear: false);

        public NativeBuffer<double>? Accumulator { get; set; }

        public NativeBuffer<double>? Partials { get; set; }

        public NativeBuffer<float>? Vector { get; set; }

        public NativeBuffer<float>? Centered { get; set; }

        public NativeBuffer<Vector512<int>>? Keys { get; set; }

        /// <summary>One key group before sorting, for counting kept positions (contributions).</summary>
        public NativeBuffer<Vector512<int>>? Unsorted { get; set; }

        /// <summary>Per row, the coordinates where the row was kept (contributions of the sorting rules).</summary>
        public long[]? Counts { get; set; }

        /// <summary>Per row, scratch for one group's kept lanes.</summary>
        public ushort[]? Masks { get; set; }

        public nint[] Shifted { get; } = new nint[rows];

        public void Dispose()
        {
            Fetcher.Dispose();
            Output.Dispose();
            Accumulator?.Dispose();
            Partials?.Dispose();
            Vector?.Dispose();
            Centered?.Dispose();
            Keys?.Dispose();
            Unsorted?.Dispose();
        }
    }

    private void RunPass(UpdateSource source, int rows, int block, Pipeline pipeline, Action<Worker> prepare, Action<Worker, int, long, int> body)
    {
        var d = source.Length;
        var blocks = (int)((d + block - 1) / block);
        var workerCount = Math.Max(1, Math.Min(pipeline.Workers, blocks));
        var workers = new Worker[workerCount];
        try
        {
            for (var w = 0; w < workerCount; w++)
            {
                workers[w] = new Worker(source, rows, block, pipeline.TrackerFor(source));
                prepare(workers[w]);
            }

            BlockRunner.Run(
                blocks,
                workerCount,
                (b, w) =>
                {
                    var start = (long)b * block;
                    body(workers[w], b, start, (int)Math.Min(block, d - start));
                },
                pipeline.CancellationToken);
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker?.Dispose();
            }
        }

        pipeline.EndPassIfFirst();
    }

    /// <summary>output = coordinate-wise mean of <paramref name="rows"/> (summed in the given order).</summary>
    private unsafe void MeanPass(UpdateSource source, int[] rows, AggregateBuffer output, Pipeline pipeline)
    {
        var block = pipeline.BlockCoordinates(rows.Length);
        RunPass(
            source, rows.Length, block, pipeline,
            w => w.Accumulator = new NativeBuffer<double>(MeanSegment, clear: false),
            (w, _, start, length) =>
            {
                w.Fetcher.Fetch(rows, start, length);
                CoordinateKernels.Mean(w.Fetcher.Rows.AsSpan(0, rows.Length), length, rows.Length, w.Output.Pointer, w.Accumulator!.Pointer, w.Tracker, rows, start);
                output.Write(start, new ReadOnlySpan<float>(w.Output.Pointer, length));
            });
    }

    /// <summary>
    /// output = a sorted-coordinate reduction over <paramref name="rows"/>. With <paramref name="countKept"/>, also counts
    /// per row the coordinates where its value sits among the sorted positions the reduction reads (ties by row position)
    /// and returns count / d per row; otherwise null.
    /// </summary>
    private unsafe double[]? SortedPass(UpdateSource source, int[] rows, SortedReduction reduction, int k, AggregateBuffer output, Pipeline pipeline, bool countKept)
    {
        var n = rows.Length;
        var (first, last) = reduction switch
        {
            SortedReduction.Median => (n % 2 == 1 ? n / 2 : (n / 2) - 1, n / 2),
            SortedReduction.TrimmedMean => (k, n - k - 1),
            _ => (0, n - 1),
        };
        var network = SortingNetwork.For(n, first, last);
        var counters = new List<long[]>();

        // Small blocks keep a block's transposed keys in L2 while the network sorts them group by group.
        var l2Block = Math.Max(DotKernels.Chunk, (int)(256L * 1024 / ((long)n * sizeof(float)) / DotKernels.Chunk * DotKernels.Chunk));
        var block = Math.Min(pipeline.BlockCoordinates(2 * n), l2Block);
        RunPass(
            source, n, block, pipeline,
            w =>
            {
                w.Keys = new NativeBuffer<Vector512<int>>((long)n * ((block + CoordinateKernels.Lanes - 1) / CoordinateKernels.Lanes), clear: false);
                if (countKept)
                {
                    w.Unsorted = new NativeBuffer<Vector512<int>>(n, clear: false);
                    w.Counts = new long[n];
                    w.Masks = new ushort[n];
                    counters.Add(w.Counts);
                }
            },
            (w, _, start, length) =>
            {
                w.Fetcher.Fetch(rows, start, length);
                if (w.Counts is { } counts)
                {
                    fixed (long* kept = counts)
                    fixed (ushort* masks = w.Masks)
                    {
                        var counting = new KeptCounter(w.Unsorted!.Pointer, masks, kept, first, last);
                        CoordinateKernels.Sorted(w.Fetcher.Rows.AsSpan(0, n), length, reduction, k, network, w.Output.Pointer, w.Keys!.Pointer, counting, w.Tracker, rows, start);
                    }
                }
                else
                {
                    CoordinateKernels.Sorted(w.Fetcher.Rows.AsSpan(0, n), length, reduction, k, network, w.Output.Pointer, w.Keys!.Pointer, default(NoObserver), w.Tracker, rows, start);
                }

                output.Write(start, new ReadOnlySpan<float>(w.Output.Pointer, length));
            });

        if (!countKept)
        {
            return null;
        }

        // Integer counts: the sum over workers does not depend on which worker counted which block.
        var d = source.Length;
        var fractions = new double[n];
        for (var i = 0; i < n; i++)
        {
            var total = 0L;
            foreach (var counter in counters)
            {
                total += counter[i];
            }

            fractions[i] = d == 0 ? 0.0 : (double)total / d;
        }

        return fractions;
    }

    /// <summary>output = update <paramref name="row"/>, copied exactly.</summary>
    private unsafe void CopyPass(UpdateSource source, int row, AggregateBuffer output, Pipeline pipeline)
    {
        var block = pipeline.BlockCoordinates(1);
        RunPass(
            source, 1, block, pipeline,
            _ => { },
            (w, _, start, length) =>
            {
                w.Fetcher.FetchOne(0, row, start, length);
                output.Write(start, new ReadOnlySpan<float>((float*)w.Fetcher.Rows[0], length));
            });
    }

    /// <summary>
    /// The n×n squared-distance matrix of docs/AGGREGATION.md (Distances): updates centred on the coordinate mean,
    /// Gram matrix by chunked deterministic dot products folded in chunk order, then D = G_ii + G_jj − 2G_ij.
    /// </summary>
    private unsafe double[] Distances(UpdateSource source, Pipeline pipeline)
    {
        var n = source.Count;
        var padded = (n + 3) & ~3;
        var chunk = DotKernels.Chunk;
        var partialBytesPerCoordinate = (int)Math.Min(int.MaxValue, (long)padded * padded * sizeof(double) / chunk);
        var block = pipeline.BlockCoordinates(n, partialBytesPerCoordinate);
        var chunksPerBlock = block / chunk;
        var gram = new double[n * n];
        var merge = new OrderedMerge();
        var rows = Enumerable.Range(0, n).ToArray();
        RunPass(
            source, n, block, pipeline,
            w =>
            {
                w.Accumulator = new NativeBuffer<double>(MeanSegment, clear: false);
                w.Vector = new NativeBuffer<float>(chunk, clear: false);
                w.Centered = new NativeBuffer<float>((long)padded * chunk, clear: true);
                w.Partials = new NativeBuffer<double>((long)chunksPerBlock * padded * padded, clear: true);
            },
            (w, b, start, length) =>
            {
                w.Fetcher.Fetch(rows, start, length);
                var chunks = (length + chunk - 1) / chunk;
                var mu = w.Vector!.Pointer;
                var y = w.Centered!.Pointer;
                for (var ch = 0; ch < chunks; ch++)
                {
                    var offset = ch * chunk;
                    var len = Math.Min(chunk, length - offset);
                    for (var i = 0; i < n; i++)
                    {
                        w.Shifted[i] = w.Fetcher.Rows[i] + (offset * sizeof(float));
                    }

                    CoordinateKernels.Mean(w.Shifted.AsSpan(0, n), len, n, mu, w.Accumulator!.Pointer);
                    var vectors = (len + DotKernels.Lanes - 1) / DotKernels.Lanes;
                    for (var i = 0; i < n; i++)
                    {
                        Center((float*)w.Shifted[i], mu, y + ((long)i * chunk), len, vectors * DotKernels.Lanes);
                        w.Tracker?.Check(i, start + offset, (float*)w.Shifted[i], len);
                    }

                    DotKernels.GramChunk(y, padded, chunk, vectors, w.Partials!.Pointer + ((long)ch * padded * padded), padded);
                }

                merge.Merge(
                    b,
                    () =>
                    {
                        for (var ch = 0; ch < chunks; ch++)
                        {
                            var p = w.Partials!.Pointer + ((long)ch * padded * padded);
                            for (var i = 0; i < n; i++)
                            {
                                for (var j = i; j < n; j++)
                                {
                                    gram[(i * n) + j] += p[(i * padded) + j];
                                }
                            }
                        }
                    },
                    pipeline.CancellationToken);
            });

        var distances = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var t = (gram[(i * n) + i] + gram[(j * n) + j]) - (2 * gram[(i * n) + j]);
                var dij = double.IsFinite(t) ? Math.Max(t, 0.0) : double.PositiveInfinity;
                distances[(i * n) + j] = dij;
                distances[(j * n) + i] = dij;
            }
        }

        return distances;
    }

    private static unsafe void Center(float* x, float* mu, float* y, int length, int paddedLength)
    {
        var c = 0;
        for (; c <= length - DotKernels.Lanes; c += DotKernels.Lanes)
        {
            Vector512.Store(Vector512.Load(x + c) - Vector512.Load(mu + c), y + c);
        }

        for (; c < length; c++)
        {
            y[c] = x[c] - mu[c];
        }

        for (; c < paddedLength; c++)
        {
            y[c] = 0f;
        }
    }

    /// <summary>cnorm2(x_i − v) for every row (v = zero when <paramref name="center"/> is null).</summary>
    private unsafe double[] SquaredNorms(UpdateSource source, AggregateBuffer? center, Pipeline pipeline) =>
        WeightedPass(source, center, null, WeightedMode.None, 0, null, true, pipeline)!;

    private enum WeightedMode
    {
        None,
        CenteredClipping,
        WeightedMean,
    }

    /// <summary>
    /// One fused pass: optionally writes a new iterate to <paramref name="output"/> from <paramref name="center"/> and the
    /// per-row coefficients (centered clipping or Weiszfeld), then optionally returns cnorm2(x_i − new iterate).
    /// </summary>
    private unsafe double[]? WeightedPass(
        UpdateSource source, AggregateBuffer? center, double[]? coefficients, WeightedMode mode, double divisor,
        AggregateBuffer? output, bool norms, Pipeline pipeline)
    {
        var n = source.Count;
        var chunk = DotKernels.Chunk;
        var block = pipeline.BlockCoordinates(n + 2, n * sizeof(double) / chunk);
        var chunksPerBlock = block / chunk;
        var result = norms ? new double[n] : null;
        var merge = new OrderedMerge();
        var rows = Enumerable.Range(0, n).ToArray();
        RunPass(
            source, n, block, pipeline,
            w =>
            {
                w.Vector = new NativeBuffer<float>(block, clear: true);
                w.Partials = new NativeBuffer<double>((long)n * chunksPerBlock, clear: true);
            },
            (w, b, start, length) =>
            {
                w.Fetcher.Fetch(rows, start, length);
                var v = w.Vector!.Pointer;
                if (center is not null)
                {
                    center.Read(start, new Span<float>(v, length));
                }

                if (mode != WeightedMode.None)
                {
                    var next = w.Output.Pointer;
                    UpdateIterate(w.Fetcher.Rows, n, center is null ? null : v, coefficients!, mode == WeightedMode.CenteredClipping, divisor, next, length);
                    output!.Write(start, new ReadOnlySpan<float>(next, length));
                    v = next;
                }
                else if (center is null)
                {
                    v = null;
                }

                if (result is null)
                {
                    w.CheckFetched(rows, start, length);
                    return;
                }

                var partials = w.Partials!.Pointer;
                for (var i = 0; i < n; i++)
                {
                    DotKernels.SquaredNormPartials((float*)w.Fetcher.Rows[i], v, length, partials + ((long)i * chunksPerBlock));
                    w.Tracker?.Check(i, start, (float*)w.Fetcher.Rows[i], length);
                }

                var chunks = (length + chunk - 1) / chunk;
                merge.Merge(
                    b,
                    () =>
                    {
                        for (var i = 0; i < n; i++)
                        {
                            for (var ch = 0; ch < chunks; ch++)
                            {
                                result[i] += partials[((long)i * chunksPerBlock) + ch];
                            }
                        }
                    },
                    pipeline.CancellationToken);
            });
        return result;
    }

    /// <summary>
    /// Centered clipping: <c>next = f32(v + dsum_i(s_i·(x_i − v)) / n)</c>, rows with s_i = 0 skipped.
    /// Weighted mean: <c>next = f32(dsum_i(w_i·x_i) / W)</c>.
    /// </summary>
    private static unsafe void UpdateIterate(nint[] rows, int n, float* v, double[] coefficients, bool clipping, double divisor, float* next, int length)
    {
        var div = Vector512.Create(divisor);
        var c = 0;
        for (; c <= length - DotKernels.Lanes; c += DotKernels.Lanes)
        {
            var center = v != null ? Vector512.Load(v + c) : Vector512<float>.Zero;
            var lo = Vector512<double>.Zero;
            var hi = Vector512<double>.Zero;
            for (var i = 0; i < n; i++)
            {
                var s = coefficients[i];
                if (clipping && s == 0)
                {
                    continue;
                }

                var x = Vector512.Load((float*)rows[i] + c);
                var e = clipping ? x - center : x;
                var sv = Vector512.Create(s);
                lo += sv * Vector512.WidenLower(e);
                hi += sv * Vector512.WidenUpper(e);
            }

            lo /= div;
            hi /= div;
            if (clipping)
            {
                lo = Vector512.WidenLower(center) + lo;
                hi = Vector512.WidenUpper(center) + hi;
            }

            Vector512.Store(Vector512.Narrow(lo, hi), next + c);
        }

        for (; c < length; c++)
        {
            var center = v != null ? v[c] : 0f;
            var acc = 0.0;
            for (var i = 0; i < n; i++)
            {
                var s = coefficients[i];
                if (clipping && s == 0)
                {
                    continue;
                }

                var x = ((float*)rows[i])[c];
                acc += s * (double)(clipping ? x - center : x);
            }

            next[c] = clipping ? (float)(center + (acc / divisor)) : (float)(acc / divisor);
        }
    }

    /// <summary>Runs centered clipping; returns the clipping factors s_i of the last iteration.</summary>
    private double[] CenteredClipping(UpdateSource source, CenteredClippingRule rule, AggregateBuffer output, Pipeline pipeline)
    {
        var n = source.Count;
        if (rule.Center is { } given)
        {
            ValidateCenter(given, source.Length);
        }

        var norms = SquaredNorms(source, rule.Center, pipeline);
        var center = rule.Center;
        var scales = new double[n];
        for (var t = 1; t <= rule.Iterations; t++)
        {
            for (var i = 0; i < n; i++)
            {
                var r = Math.Sqrt(norms[i]);
                scales[i] = r <= rule.Tau ? 1.0 : rule.Tau / r;
            }

            norms = WeightedPass(source, center, scales, WeightedMode.CenteredClipping, n, output, t < rule.Iterations, pipeline)!;
            center = output;
        }

        return scales;
    }

    /// <summary>A starting centre must match the updates' length and hold finite values only.</summary>
    private static unsafe void ValidateCenter(AggregateBuffer center, long d)
    {
        if (center.Length != d)
        {
            throw new AggregationException($"centered-clipping: the centre has {center.Length} values but the updates have {d}");
        }

        var block = new float[Math.Min(d, 1L << 16)];
        for (long start = 0; start < d; start += block.Length)
        {
            var length = (int)Math.Min(block.Length, d - start);
            center.Read(start, block.AsSpan(0, length));
            fixed (float* values = block)
            {
                var bad = FiniteTracker.FindNonFinite(values, length);
                if (bad >= 0)
                {
                    throw new AggregationException($"centered-clipping: the centre holds a non-finite value at index {start + bad}");
                }
            }
        }
    }

    /// <summary>Runs the Weiszfeld iterations; returns the last iteration's normalised weights w_i / W.</summary>
    private double[] GeometricMedian(UpdateSource source, GeometricMedianRule rule, AggregateBuffer output, Pipeline pipeline)
    {
        var n = source.Count;
        MeanPass(source, Enumerable.Range(0, n).ToArray(), output, pipeline);
        var norms = SquaredNorms(source, output, pipeline);
        var weights = new double[n];
        for (var t = 1; t <= rule.Iterations; t++)
        {
            var total = 0.0;
            for (var i = 0; i < n; i++)
            {
                weights[i] = 1.0 / Math.Max(rule.Nu, Math.Sqrt(norms[i]));
                total += weights[i];
            }

            norms = WeightedPass(source, output, weights, WeightedMode.WeightedMean, total, output, t < rule.Iterations, pipeline)!;
            if (t == rule.Iterations)
            {
                for (var i = 0; i < n; i++)
                {
                    weights[i] /= total;
                }
            }
        }

        return weights;
    }
}
