using System.Numerics.Tensors;

namespace FedAgg.Training;

/// <summary>Element-wise model arithmetic for updates (exact IEEE float32 per element, so the same bits everywhere).</summary>
public static class UpdateMath
{
    /// <summary><c>update[i] = local[i] − base[i]</c>: the update a node submits.</summary>
    /// <param name="local">The trained model.</param>
    /// <param name="baseModel">The model training started from.</param>
    /// <param name="update">Receives the difference; same length (may alias <paramref name="local"/>).</param>
    public static void Subtract(ReadOnlySpan<float> local, ReadOnlySpan<float> baseModel, Span<float> update)
    {
        CheckLengths(local.Length, baseModel.Length, update.Length);
        TensorPrimitives.Subtract(local, baseModel, update);
    }

    /// <summary><c>model[i] = baseModel[i] + update[i]</c>: applies an update.</summary>
    /// <param name="baseModel">The model the update is relative to.</param>
    /// <param name="update">The update.</param>
    /// <param name="model">Receives the sum; same length (may alias either input).</param>
    public static void Add(ReadOnlySpan<float> baseModel, ReadOnlySpan<float> update, Span<float> model)
    {
        CheckLengths(baseModel.Length, update.Length, model.Length);
        TensorPrimitives.Add(baseModel, update, model);
    }

    private static void CheckLengths(int a, int b, int destination)
    {
        if (a != b || b != destination)
        {
            throw new ArgumentException($"Lengths differ: {a}, {b} and {destination}.");
        }
    }
}
