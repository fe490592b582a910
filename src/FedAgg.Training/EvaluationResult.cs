namespace FedAgg.Training;

/// <summary>How a model did on a data set.</summary>
/// <param name="Count">The number of samples evaluated.</param>
/// <param name="Correct">The number whose highest logit was the label (ties go to the lowest class).</param>
/// <param name="MeanLoss">The mean softmax cross-entropy, in nats.</param>
public readonly record struct EvaluationResult(int Count, int Correct, double MeanLoss)
{
    /// <summary><see cref="Correct"/> / <see cref="Count"/>, or 0 for an empty set.</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
}
