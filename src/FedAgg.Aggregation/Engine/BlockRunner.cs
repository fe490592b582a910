namespace FedAgg.Aggregation;

/// <summary>
/// Runs a body over block indices on a fixed number of workers. Workers take blocks in ascending order, which is what
/// lets <see cref="OrderedMerge"/> fold per-block partials in block order without holding more than one per worker.
/// </summary>
internal static class BlockRunner
{
    public static void Run(int blockCount, int workers, Action<int, int> body, CancellationToken cancellationToken)
    {
        if (blockCount == 0)
        {
            return;
        }

        workers = Math.Max(1, Math.Min(workers, blockCount));
        if (workers == 1)
        {
            for (var block = 0; block < blockCount; block++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                body(block, 0);
            }

            return;
        }

        var next = -1;
        var failure = new StrongBox<Exception?>();
        void Work(int worker)
        {
            try
            {
                int block;
                while ((block = Interlocked.Increment(ref next)) < blockCount && Volatile.Read(ref failure.Value) is null)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    body(block, worker);
                }
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref failure.Value, ex, null);
            }
        }

        var threads = new Thread[workers - 1];
        for (var w = 1; w < workers; w++)
        {
            var worker = w;
            threads[w - 1] = new Thread(() => Work(worker), maxStackSize: 1 << 20) { IsBackground = true, Name = "fedagg-aggregation" };
            threads[w - 1].Start();
        }

        Work(0);
        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (failure.Value is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }
    }

    private sealed class StrongBox<T>
    {
        public T Value = default!;
    }
}

/// <summary>Lets workers fold per-block partial results into shared accumulators strictly in block order.</summary>
internal sealed class OrderedMerge
{
    private readonly object _gate = new();
    private int _next;

    /// <summary>Waits until every block before <paramref name="block"/> has merged, runs <paramref name="merge"/>, then admits the next block.</summary>
    public void Merge(int block, Action merge, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            while (_next != block)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_gate, 20);
            }
        }

        merge();
        lock (_gate)
        {
            _next++;
            Monitor.PulseAll(_gate);
        }
    }
}
