namespace FedAgg.Aggregation.Tests.Optimizers;

/// <summary>
/// A plain scalar transcription of the "Outer optimizers" table of docs/AGGREGATION.md, written apart from the
/// production kernels: one coordinate at a time, every operand widened to double, each stored value rounded to float.
/// </summary>
internal static class OptimizerReference
{
    public static void FedAvg(float[] theta, float[] delta, double eta)
    {
        for (var c = 0; c < theta.Length; c++)
        {
            double t = theta[c];
            double d = delta[c];
            theta[c] = (float)(t + (eta * d));
        }
    }

    public static void FedAvgM(float[] theta, float[] delta, float[] momentum, double eta, double mu)
    {
        for (var c = 0; c < theta.Length; c++)
        {
            double mOld = momentum[c];
            double d = delta[c];
            momentum[c] = (float)((mu * mOld) + d);
            double mNew = momentum[c];
            double t = theta[c];
            theta[c] = (float)(t + (eta * mNew));
        }
    }

    public static void DiLoCo(float[] theta, float[] delta, float[] momentum, double eta, double mu)
    {
        for (var c = 0; c < theta.Length; c++)
        {
            double g = -(double)delta[c];
            double mOld = momentum[c];
            momentum[c] = (float)((mu * mOld) + g);
            double mNew = momentum[c];
            double t = theta[c];
            double nesterov = g + (mu * mNew);
            theta[c] = (float)(t - (eta * nesterov));
        }
    }

    public static void FedAdam(float[] theta, float[] delta, float[] m, float[] v, double eta, double beta1, double beta2, double tau)
    {
        for (var c = 0; c < theta.Length; c++)
        {
            double d = delta[c];
            double mOld = m[c];
            double vOld = v[c];
            m[c] = (float)((beta1 * mOld) + ((1.0 - beta1) * d));
            v[c] = (float)((beta2 * vOld) + ((1.0 - beta2) * (d * d)));
            double mNew = m[c];
            double vNew = v[c];
            double step = eta * mNew;
            step /= Math.Sqrt(vNew) + tau;
            double t = theta[c];
            theta[c] = (float)(t + step);
        }
    }
}
