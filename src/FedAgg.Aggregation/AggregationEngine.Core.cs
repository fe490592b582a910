using FedAgg.Aggregation.Kernels;

namespace FedAgg.Aggregation;

public sealed partial class AggregationEngine
{
    private AggregationResult AggregateCore(UpdateSource updates, AggregationSettings settings, AggregateBuffer output, CancellationToken cancellationToken)
    {
        var n = updates.Count;
        if (n == 0)
        {
            throw new AggregationException("no updates to aggregate");
        }

        var d = updates.LengthOf(0);
        for (var i = 1; i < n; i++)
        {
            if (updates.LengthOf(i) != d)
            {
                throw new AggregationException(
                    $"{updates.NameOf(i)} has {updates.LengthOf(i)} values but {updates.NameOf(0)} has {d}; all updates must have the same length");
            }
        }

        if (output.Length != d)
        {
            throw new ArgumentException($"the output holds {output.Length} values but the updates have {d}", nameof(output));
        }

        ValidatePipeline(settings, n);
        var identity = Enumerable.Range(0, n).ToArray();
        var tracker = new FiniteTracker(n);
        try
        {
            return Run(updates, identity, [], tracker, settings, output, cancellationToken);
        }
        catch (NonFiniteInputsException)
        {
            var excluded = new List<ExcludedUpdate>();
            var kept = new List<int>(n);
            for (var i = 0; i < n; i++)
            {
                var bad = tracker.FirstBad(i);
                if (bad == long.MaxValue)
                {
                    kept.Add(i);
                }
                else
                {
                    excluded.Add(new ExcludedUpdate(i, updates.NameOf(i), $"non-finite value at index {bad}"));
                }
            }

            if (kept.Count == 0)
            {
                throw new AggregationException($"no finite updates left: all {n} inputs hold NaN or ±Inf");
            }

            try
            {
                ValidatePipeline(settings, kept.Count);
            }
            catch (AggregationException ex)
            {
                throw new AggregationException($"{ex.Message} (after excluding {excluded.Count} non-finite input(s))", ex);
            }

            using var subset = new SubsetSource(updates, [.. kept]);
            return Run(subset, [.. kept], excluded, null, settings, output, cancellationToken);
        }
    }

    private static void ValidatePipeline(AggregationSettings settings, int n)
    {
        foreach (var step in settings.Steps)
        {
            step.Validate(n);
            n = step.OutputCount(n);
        }

        settings.Rule.Validate(n);
    }

    private AggregationResult Run(
        UpdateSource raw, int[] originalIndex, List<ExcludedUpdate> excluded, FiniteTracker? tracker,
        AggregationSettings settings, AggregateBuffer output, CancellationToken cancellationToken)
    {
        var pipeline = new Pipeline(this, raw, tracker, cancellationToken);
        var source = settings.Steps.Count > 0 && tracker is not null ? new CheckingSource(raw, tracker) : raw;
        var renumbered = false;
        var derived = new List<UpdateSource>();
        try
        {
            foreach (var step in settings.Steps)
            {
                source = ApplyStep(step, source, pipeline);
                derived.Add(source);
                renumbered |= step is BucketingStep;
            }

            var outcome = RunRule(settings.Rule, source, output, pipeline);
            pipeline.EndPassIfFirst();

            var inputCount = originalIndex.Length + excluded.Count;
            int Map(int i) => renumbered ? i : originalIndex[i];
            double[] scores = [];
            if (outcome.Scores is { } local)
            {
                if (renumbered)
                {
                    scores = local;
                }
                else
                {
                    scores = new double[inputCount];
                    Array.Fill(scores, double.NaN);
                    for (var i = 0; i < local.Length; i++)
                    {
                        scores[originalIndex[i]] = local[i];
                    }
                }
            }

            return new AggregationResult
            {
                InputCount = inputCount,
                Length = raw.Length,
                AggregatedCount = source.Count,
                Selected = outcome.Selected is { } selected ? [.. selected.Select(Map)] : [],
                Scores = scores,
                Excluded = excluded,
                Contributions = outcome.Contributions is { } used ? InputContributions(used, settings, originalIndex, inputCount) : [],
            };
        }
        finally
        {
            foreach (var s in derived)
            {
                s.Dispose();
            }
        }
    }

    private readonly record struct RuleOutcome(int[]? Selected, double[]? Scores, double[]? Contributions = null);

    /// <summary>
    /// Maps the rule's per-row contributions back to the inputs: a bucketed input gets its bucket's, every other step
    /// keeps row i as input i's row (nearest-neighbour mixing builds row i around input i); excluded inputs get 0.
    /// </summary>
    private static double[] InputContributions(double[] ruleContributions, AggregationSettings settings, int[] originalIndex, int inputCount)
    {
        var count = originalIndex.Length;
        var row = Enumerable.Range(0, count).ToArray();
        foreach (var step in settings.Steps)
        {
            if (step is BucketingStep bucketing)
            {
                var permutation = Bucketing.Permutation(count, bucketing.Seed);
                var bucketOf = new int[count];
                for (var p = 0; p < count; p++)
                {
                    bucketOf[permutation[p]] = p / bucketing.BucketSize;
                }

                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = bucketOf[row[i]];
                }
            }

            count = step.OutputCount(count);
        }

        var contributions = new double[inputCount];
        for (var i = 0; i < originalIndex.Length; i++)
        {
            contributions[originalIndex[i]] = ruleContributions[row[i]];
        }

        return contributions;
    }

    /// <summary>1 for every row, or only for <paramref name="members"/>, else 0; null when contributions are off.</summary>
    private double[]? Uniform(int n, IReadOnlyCollection<int>? members = null)
    {
        if (!_options.ComputeContributions)
        {
            return null;
        }

        var contributions = new double[n];
        if (members is null)
        {
            Array.Fill(contributions, 1.0);
        }
        else
        {
            foreach (var i in members)
            {
                contributions[i] = 1.0;
            }
        }

        return contributions;
    }

    private RuleOutcome RunRule(AggregationRule rule, UpdateSource source, AggregateBuffer output, Pipeline pipeline)
    {
        var n = source.Count;
        switch (rule)
        {
            case MeanRule:
                MeanPass(source, Enumerable.Range(0, n).ToArray(), output, pipeline);
                return new RuleOutcome(null, null, Uniform(n));
            case MedianRule:
                return new RuleOutcome(null, null, SortedPass(source, Enumerable.Range(0, n).ToArray(), SortedReduction.Median, 0, output, pipeline, _options.ComputeContributions));
            case TrimmedMeanRule trimmed:
                return new RuleOutcome(
                    null, null, SortedPass(source, Enumerable.Range(0, n).ToArray(), SortedReduction.TrimmedMean, trimmed.TrimCount(n), output, pipeline, _options.ComputeContributions));
            case KrumRule krum:
            {
                var distances = Distances(source, pipeline);
                var scores = KrumSelection.Scores(distances, n, Enumerable.Range(0, n).ToArray(), krum.F);
                var winner = KrumSelection.ArgMin(scores, Enumerable.Range(0, n).ToArray());
                CopyPass(source, winner, output, pipeline);
                return new RuleOutcome([winner], scores, Uniform(n, [winner]));
            }

            case MultiKrumRule multi:
            {
                var distances = Distances(source, pipeline);
                var scores = KrumSelection.Scores(distances, n, Enumerable.Range(0, n).ToArray(), multi.F);
                var chosen = KrumSelection.Lowest(scores, multi.SelectionCount(n));
                var ascending = chosen.Order().ToArray();
                MeanPass(source, ascending, output, pipeline);
                return new RuleOutcome(chosen, scores, Uniform(n, chosen));
            }

            case BulyanRule bulyan:
            {
                var distances = Distances(source, pipeline);
                var (chosen, scores) = KrumSelection.Bulyan(distances, n, bulyan.F);
                var theta = chosen.Length;
                SortedPass(source, chosen, SortedReduction.NearestToMedian, theta - (2 * bulyan.F), output, pipeline, false);
                return new RuleOutcome(chosen, scores, Uniform(n, chosen));
            }

            case CenteredClippingRule clipping:
            {
                var factors = CenteredClipping(source, clipping, output, pipeline);
                return new RuleOutcome(null, null, _options.ComputeContributions ? factors : null);
            }

            case GeometricMedianRule median:
            {
                var weights = GeometricMedian(source, median, output, pipeline);
                return new RuleOutcome(null, null, _options.ComputeContributions ? weights : null);
            }

            default:
                throw new AggregationException($"unknown rule {rule.Name}");
        }
    }

    private UpdateSource ApplyStep(PreAggregationStep step, UpdateSource source, Pipeline pipeline)
    {
        var n = source.Count;
        switch (step)
        {
            case ClipNormStep clip:
            {
                var norms = SquaredNorms(source, null, pipeline);
                var scales = new double[n];
                for (var i = 0; i < n; i++)
                {
                    var r = Math.Sqrt(norms[i]);
                    scales[i] = r > clip.MaxNorm ? clip.MaxNorm / r : 1.0;
                }

                return new ClippedSource(source, scales);
            }

            case NearestNeighbourMixingStep mixing:
            {
                var distances = Distances(source, pipeline);
                var groups = new int[n][];
                var order = new int[n];
                var keys = new double[n];
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        order[j] = j;
                        keys[j] = i == j ? 0.0 : distances[(i * n) + j];
                    }

                    // Stable by index: ties go to the lower j.
                    Array.Sort(keys, order);
                    KrumSelection.StabilizeTies(keys, order);
                    var group = order.AsSpan(0, n - mixing.F).ToArray();
                    Array.Sort(group);
                    groups[i] = group;
                }

                return new GroupMeanSource(source, groups);
            }

            case BucketingStep bucketing:
            {
                var permutation = Bucketing.Permutation(n, bucketing.Seed);
                var count = bucketing.OutputCount(n);
                var groups = new int[count][];
                for (var b = 0; b < count; b++)
                {
                    var first = b * bucketing.BucketSize;
                    groups[b] = permutation.AsSpan(first, Math.Min(n, first + bucketing.BucketSize) - first).ToArray();
                }

                return new GroupMeanSource(source, groups);
            }

            default:
                throw new AggregationException($"unknown pre-aggregation step {step.Name}");
        }
    }

    /// <summary>State shared by the passes of one aggregation.</summary>
    private sealed class Pipeline(AggregationEngine engine, UpdateSource raw, FiniteTracker? tracker, CancellationToken cancellationToken)
    {
        private FiniteTracker? _tracker = tracker;

        public CancellationToken CancellationToken => cancellationToken;

        public int Workers => engine._options.MaxDegreeOfParallelism;

        /// <summary>The tracker for kernels that read <paramref name="source"/> directly: only the raw inputs are checked, and only in the first pass.</summary>
        public FiniteTracker? TrackerFor(UpdateSource source) => ReferenceEquals(source, raw) ? _tracker : null;

        /// <summary>Coordinates per block for passes holding <paramref name="rows"/> rows of scratch per worker, within the memory budget.</summary>
        public int BlockCoordinates(int rows, int extraBytesPerCoordinate = 0)
        {
            var block = Math.Max(DotKernels.Chunk, engine._options.BlockCoordinates / DotKernels.Chunk * DotKernels.Chunk);
            var perCoordinate = (((long)rows + 4) * sizeof(float)) + extraBytesPerCoordinate;
            while (block > DotKernels.Chunk && (long)Workers * block * perCoordinate > engine._options.MemoryBudgetBytes)
            {
                block -= DotKernels.Chunk;
            }

            return block;
        }

        /// <summary>Called after every pass; after the first one, a non-finite input restarts the aggregation without it.</summary>
        public void EndPassIfFirst()
        {
            if (_tracker is { } t)
            {
                _tracker = null;
                t.Stop();
                if (t.AnyBad)
                {
                    throw new NonFiniteInputsException();
                }
            }
        }
    }

    private sealed class NonFiniteInputsException : Exception
    {
    }
}
