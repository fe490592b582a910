using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FedAgg.Aggregation;

/// <summary>One optimizer step over a block of coordinates; implementations are small readonly structs.</summary>
internal interface IOptimizerStep
{
    /// <summary>Number of state buffers the step reads and writes.</summary>
    static abstract int StateCount { get; }

    /// <summary>
    /// Advances one block in place. All spans have the same length; <paramref name="state1"/> is empty when
    /// <see cref="StateCount"/> &lt; 2, <paramref name="state0"/> when it is 0.
    /// </summary>
    void Step(Span<float> model, ReadOnlySpan<float> delta, Span<float> state0, Span<float> state1);
}

/// <summary>
/// Runs an <see cref="IOptimizerStep"/> over d coordinates in blocks of <see cref="BlockCoordinates"/>, through pooled
/// buffers: memory is O(block), never O(d). The arithmetic is element-wise, so the block size never changes the bits.
/// </summary>
internal static class OptimizerKernel
{
    internal const int BlockCoordinates = 4096;

    public static void Run<TStep>(in TStep step, OuterOptimizer optimizer, AggregateBuffer model, AggregateBuffer delta, IReadOnlyList<AggregateBuffer> state, CancellationToken cancellationToken)
        where TStep : struct, IOptimizerStep
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(state);
        CheckBuffers(optimizer, TStep.StateCount, model, delta, state);
        cancellationToken.ThrowIfCancellationRequested();

        var length = model.Length;
        if (length == 0)
        {
            return;
        }

        var block = (int)Math.Min(BlockCoordinates, length);
        var pool = ArrayPool<float>.Shared;
        var modelBlock = pool.Rent(block);
        var deltaBlock = pool.Rent(block);
        var state0Block = TStep.StateCount > 0 ? pool.Rent(block) : [];
        var state1Block = TStep.StateCount > 1 ? pool.Rent(block) : [];
        try
        {
            for (long start = 0; start < length; start += block)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = (int)Math.Min(block, length - start);
                var m = modelBlock.AsSpan(0, count);
                var g = deltaBlock.AsSpan(0, count);
                var s0 = TStep.StateCount > 0 ? state0Block.AsSpan(0, count) : [];
                var s1 = TStep.StateCount > 1 ? state1Block.AsSpan(0, count) : [];

                model.Read(start, m);
                delta.Read(start, g);
                if (TStep.StateCount > 0)
                {
                    state[0].Read(start, s0);
                }

                if (TStep.StateCount > 1)
                {
                    state[1].Read(start, s1);
                }

                step.Step(m, g, s0, s1);

                // State first: a cancelled or failed run then leaves no block whose model moved without its state.
                if (TStep.StateCount > 0)
                {
                    state[0].Write(start, s0);
                }

                if (TStep.StateCount > 1)
                {
                    state[1].Write(start, s1);
                }

                model.Write(start, m);
            }
        }
        finally
        {
            pool.Return(modelBlock);
            pool.Return(deltaBlock);
            if (TStep.StateCount > 0)
            {
                pool.Return(state0Block);
            }

            if (TStep.StateCount > 1)
            {
                pool.Return(state1Block);
            }
        }
    }

    private static void CheckBuffers(OuterOptimizer optimizer, int stateCount, AggregateBuffer model, AggregateBuffer delta, IReadOnlyList<AggregateBuffer> state)
    {
        if (state.Count != stateCount)
        {
            ThrowStateCount(nameof(state), optimizer, state.Count);
        }

        var length = model.Length;
        if (delta.Length != length)
        {
            ThrowLength(nameof(delta), "delta", delta.Length, length);
        }

        if (ReferenceEquals(model, delta))
        {
            throw new ArgumentException("delta must be a different buffer from model", nameof(delta));
        }

        for (var i = 0; i < state.Count; i++)
        {
            var buffer = state[i];
            var label = string.Create(CultureInfo.InvariantCulture, $"state[{i}] ({optimizer.StateNames[i]})");
            if (buffer is null)
            {
                throw new ArgumentNullException(nameof(state), $"{label} is null");
            }

            if (buffer.Length != length)
            {
                ThrowLength(nameof(state), label, buffer.Length, length);
            }

            // A state buffer that is also the model, the delta or another state would be read and overwritten twice per block.
            if (ReferenceEquals(buffer, model) || ReferenceEquals(buffer, delta))
            {
                throw new ArgumentException($"{label} must be a different buffer from model and delta", nameof(state));
            }

            for (var j = 0; j < i; j++)
            {
                if (ReferenceEquals(buffer, state[j]))
                {
                    throw new ArgumentException($"{label} is the same buffer as state[{j}] ({optimizer.StateNames[j]})", nameof(state));
                }
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowStateCount(string parameter, OuterOptimizer optimizer, int count) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"{optimizer.Name} needs {optimizer.StateNames.Count} state buffer(s) [{string.Join(", ", optimizer.StateNames)}], got {count}"),
            parameter);

    [DoesNotReturn]
    private static void ThrowLength(string parameter, string label, long actual, long expected) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"{label} has length {actual}, but model has length {expected}"),
            parameter);
}

/// <summary>Parameter checks shared by the optimizers; each throws <see cref="ArgumentOutOfRangeException"/> naming the parameter.</summary>
internal static class OptimizerParameters
{
    public static double LearningRate(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            Throw(name, value, "a finite number > 0");
        }

        return value;
    }

    /// <summary>Momentum and decay rates: 0 ≤ value &lt; 1.</summary>
    public static double Rate(double value, string name)
    {
        if (!(value >= 0 && value < 1))
        {
            Throw(name, value, "in [0, 1)");
        }

        return value;
    }

    public static double Epsilon(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            Throw(name, value, "a finite number > 0");
        }

        return value;
    }

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    [DoesNotReturn]
    private static void Throw(string name, double value, string allowed) =>
        throw new ArgumentOutOfRangeException(name, value, $"{name} must be {allowed}, got {Format(value)}");
}
