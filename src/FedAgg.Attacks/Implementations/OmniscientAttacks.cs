using System.Buffers;
using System.Numerics.Tensors;

namespace FedAgg.Attacks.Implementations;

/// <summary>
/// <c>alie</c>: <c>destination[i] = μ_i + sign · z · σ_i</c>, μ and σ the per-coordinate mean and standard deviation
/// (divisor k − 1, or k for the population form) of the round's k honest updates, z = <see cref="Alie.ZMax"/>(n, f)
/// unless overridden. Computed in float32: μ = (Σ_j h_j) / k summed in list order, σ = sqrt(Σ_j (h_j − μ)² / divisor).
/// </summary>
internal sealed class AlieAttack(double? z, int sign, bool sampleStd) : UpdateAttack(AttackKind.Alie, AttackInputs.HonestUpdates)
{
    private int MinimumHonest => sampleStd ? 2 : 1;

    /// <summary>The z this attack uses for the context (override, or z_max from n and f).</summary>
    public double ZFor(AttackContext context) => z ?? Alie.ZMax(context.TotalParticipants, context.ByzantineCount);

    protected override string? Missing(AttackContext context)
    {
        if (context.HonestUpdates.Count < MinimumHonest)
        {
            return $"alie needs at least {MinimumHonest} honest updates of round {context.Round} (AttackContext.HonestUpdates) for a standard deviation; it has {context.HonestUpdates.Count}.";
        }

        if (z is null)
        {
            try
            {
                _ = Alie.ZMax(context.TotalParticipants, context.ByzantineCount);
            }
            catch (ArgumentOutOfRangeException e)
            {
                return $"alie cannot compute z_max from n = {context.TotalParticipants} and f = {context.ByzantineCount}: {e.Message}";
            }
        }

        return null;
    }

    protected override void Run(AttackContext context, Span<float> destination)
    {
        var honest = context.HonestUpdates;
        OmniscientMath.CheckAll(this, honest, destination);
        var scale = (float)(sign * ZFor(context));
        var divisor = (float)(sampleStd ? honest.Count - 1 : honest.Count);
        var pool = ArrayPool<float>.Shared;
        var sumSquaresArray = pool.Rent(OmniscientMath.Block);
        var differenceArray = pool.Rent(OmniscientMath.Block);
        try
        {
            // Block by block, so the block's accumulators stay in L1 and its honest rows in L2 between the two passes.
            for (var start = 0; start < destination.Length; start += OmniscientMath.Block)
            {
                var length = Math.Min(OmniscientMath.Block, destination.Length - start);
                var mean = destination.Slice(start, length);
                var sumSquares = sumSquaresArray.AsSpan(0, length);
                var difference = differenceArray.AsSpan(0, length);
                OmniscientMath.MeanBlock(honest, start, mean);
                sumSquares.Clear();
                foreach (var update in honest)
                {
                    TensorPrimitives.Subtract(update.Span.Slice(start, length), mean, difference);
                    TensorPrimitives.MultiplyAdd(difference, difference, sumSquares, sumSquares);
                }

                TensorPrimitives.Divide(sumSquares, divisor, sumSquares);
                TensorPrimitives.Sqrt(sumSquares, sumSquares);
                TensorPrimitives.MultiplyAdd(sumSquares, scale, mean, mean);
            }
        }
        finally
        {
            pool.Return(sumSquaresArray);
            pool.Return(differenceArray);
        }
    }
}

/// <summary><c>ipm</c>: <c>destination[i] = −ε · μ_i</c>, μ the per-coordinate mean of the round's honest updates (float32, summed in list order).</summary>
internal sealed class IpmAttack(double epsilon) : UpdateAttack(AttackKind.Ipm, AttackInputs.HonestUpdates)
{
    protected override string? Missing(AttackContext context) =>
        context.HonestUpdates.Count == 0
            ? $"ipm needs the honest updates of round {context.Round} (AttackContext.HonestUpdates), which is empty."
            : null;

    protected override void Run(AttackContext context, Span<float> destination)
    {
        OmniscientMath.Mean(this, context.HonestUpdates, destination);
        TensorPrimitives.Multiply(destination, (float)-epsilon, destination);
    }
}

internal static class OmniscientMath
{
    /// <summary>Coordinates per block (16 KiB of float32).</summary>
    public const int Block = 4096;

    /// <summary>Checks every honest update's length and that none overlaps the destination.</summary>
    public static void CheckAll(UpdateAttack attack, IReadOnlyList<ReadOnlyMemory<float>> honest, Span<float> destination)
    {
        foreach (var update in honest)
        {
            _ = attack.CheckedInput(update, destination, "an honest update");
        }
    }

    /// <summary><c>destination = (h_0 + h_1 + … + h_{k−1}) / k</c> per coordinate, added left to right in float32.</summary>
    public static void Mean(UpdateAttack attack, IReadOnlyList<ReadOnlyMemory<float>> honest, Span<float> destination)
    {
        CheckAll(attack, honest, destination);
        for (var start = 0; start < destination.Length; start += Block)
        {
            MeanBlock(honest, start, destination.Slice(start, Math.Min(Block, destination.Length - start)));
        }
    }

    /// <summary>The mean of coordinates [start, start + block.Length) into <paramref name="block"/>.</summary>
    public static void MeanBlock(IReadOnlyList<ReadOnlyMemory<float>> honest, int start, Span<float> block)
    {
        honest[0].Span.Slice(start, block.Length).CopyTo(block);
        for (var j = 1; j < honest.Count; j++)
        {
            TensorPrimitives.Add(block, honest[j].Span.Slice(start, block.Length), block);
        }

        TensorPrimitives.Divide(block, (float)honest.Count, block);
    }
}
