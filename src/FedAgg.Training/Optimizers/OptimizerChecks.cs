namespace FedAgg.Training.Optimizers;

/// <summary>Argument checks shared by the optimizers.</summary>
internal static class OptimizerChecks
{
    public static void Positive(float value, string name)
    {
        if (!(value > 0 && float.IsFinite(value)))
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be positive and finite.");
        }
    }

    public static void NonNegative(float value, string name)
    {
        if (!(value >= 0 && float.IsFinite(value)))
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be zero or positive and finite.");
        }
    }

    public static void Fraction(float value, string name)
    {
        if (!(value is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be in [0, 1).");
        }
    }

    public static void Lengths(int expected, int parameters, int gradient)
    {
        if (parameters != expected || gradient != expected)
        {
            throw new ArgumentException($"Expected {expected} parameters and gradients; got {parameters} and {gradient}.");
        }
    }
}
