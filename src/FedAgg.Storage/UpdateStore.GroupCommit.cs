using Microsoft.Extensions.Logging;

namespace FedAgg.Storage;

public sealed partial class UpdateStore
{
    /// <summary>
    /// Makes a batch durable: one fsync per payload directory, then per round one journal append and one fsync.
    /// Completes every request's task; never throws.
    /// </summary>
    private void CommitBatch(List<CommitRequest> batch)
    {
        var started = _timeProvider.GetTimestamp();
        var rounds = new List<(RoundState Round, List<CommitRequest> Requests)>();
        try
        {
            var directories = new HashSet<string>(StringComparer.Ordinal);
            foreach (var request in batch)
            {
                if (directories.Add(request.Round.UpdatesDirectory))
                {
                    FlushDirectoryOrFault(request.Round.UpdatesDirectory);
                }

                // Few rounds are open at once, so a linear search beats a dictionary here.
                var group = rounds.FindIndex(g => ReferenceEquals(g.Round, request.Round));
                if (group < 0)
                {
                    rounds.Add((request.Round, [request]));
                }
                else
                {
                    rounds[group].Requests.Add(request);
                }
            }
        }
        catch (Exception e)
        {
            foreach (var request in batch)
            {
                request.Completion!.TrySetException(e);
            }

            return;
        }

        foreach (var (round, requests) in rounds)
        {
            try
            {
                var entries = AppendAndPublish(round, requests);
                for (var i = 0; i < entries.Length; i++)
                {
                    requests[i].Completion!.TrySetResult(entries[i]);
                }
            }
            catch (Exception e)
            {
                foreach (var request in requests)
                {
                    request.Completion!.TrySetException(e);
                }
            }
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var elapsedMs = _timeProvider.GetElapsedTime(started).TotalMilliseconds;
            Log.GroupCommitted(_logger, batch.Count, rounds.Count, elapsedMs);
        }
    }

    /// <summary>
    /// The single committer thread of <see cref="DurabilityMode.GroupCommit"/>. It takes everything queued while its
    /// previous batch was being flushed, so batches grow with load and a lone commit waits for nothing. A dedicated
    /// thread, because it blocks in fsync.
    /// </summary>
    private sealed class GroupCommitter
    {
        private readonly UpdateStore _store;
        private readonly object _lock = new();
        private readonly Thread _thread;
        private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private List<CommitRequest> _queue = [];
        private List<CommitRequest> _batch = [];
        private bool _stopping;

        public GroupCommitter(UpdateStore store)
        {
            _store = store;
            _thread = new Thread(Run) { IsBackground = true, Name = "FedAgg.Storage group commit" };
            _thread.Start();
        }

        public Task<JournalEntry> CommitAsync(CommitRequest request)
        {
            var completion = new TaskCompletionSource<JournalEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
            request.Completion = completion;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_stopping, _store);
                _queue.Add(request);
                if (_queue.Count == 1)
                {
                    Monitor.Pulse(_lock);
                }
            }

            return completion.Task;
        }

        /// <summary>Lets the thread finish what is queued, then end.</summary>
        public Task Stop()
        {
            lock (_lock)
            {
                _stopping = true;
                Monitor.Pulse(_lock);
            }

            return _stopped.Task;
        }

        public void Join() => _thread.Join();

        private void Run()
        {
            try
            {
                while (true)
                {
                    lock (_lock)
                    {
                        while (_queue.Count == 0 && !_stopping)
                        {
                            Monitor.Wait(_lock);
                        }

                        if (_queue.Count == 0)
                        {
                            return;
                        }

                        (_queue, _batch) = (_batch, _queue);
                    }

                    _store.CommitBatch(_batch);
                    _batch.Clear();
                }
            }
            finally
            {
                _stopped.TrySetResult();
            }
        }
    }
}
