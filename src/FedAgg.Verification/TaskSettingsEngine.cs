using FedAgg.Aggregation;
using FedAgg.Core.Rounds;

namespace FedAgg.Verification;

/// <summary>Converts <see cref="TaskSettings"/> to the aggregation engine's types and back.</summary>
public static class TaskSettingsEngine
{
    /// <summary>The engine settings: the rule (centered clipping starts from a zero centre) and the pre-steps in order.</summary>
    /// <exception cref="ArgumentException">The settings are invalid (<see cref="TaskSettings.Validate"/>).</exception>
    public static AggregationSettings ToAggregationSettings(this TaskSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var rule = settings.Rule;
        AggregationRule engineRule = rule.Name switch
        {
            "mean" => new MeanRule(),
            "median" => new MedianRule(),
            "trimmed-mean" => new TrimmedMeanRule(rule.Beta!.Value),
            "krum" => new KrumRule(rule.F!.Value),
            "multi-krum" => new MultiKrumRule(rule.F!.Value, rule.M),
            "bulyan" => new BulyanRule(rule.F!.Value),
            "centered-clipping" => new CenteredClippingRule(rule.Tau!.Value, rule.Iterations!.Value),
            "geometric-median" => new GeometricMedianRule(rule.Nu!.Value, rule.Iterations!.Value),
            _ => throw new ArgumentException($"rule.name: unknown rule '{rule.Name}'"),
        };
        var steps = settings.PreSteps.Select(static PreAggregationStep (step) => step.Name switch
        {
            "clip-norm" => new ClipNormStep(step.C!.Value),
            "nearest-neighbour-mixing" => new NearestNeighbourMixingStep(step.F!.Value),
            "bucketing" => new BucketingStep(step.S!.Value, step.Seed!.Value),
            _ => throw new ArgumentException($"preSteps: unknown step '{step.Name}'"),
        }).ToArray();
        return new AggregationSettings(engineRule, steps);
    }

    /// <summary>The outer optimizer.</summary>
    /// <exception cref="ArgumentException">The settings are invalid (<see cref="TaskSettings.Validate"/>).</exception>
    public static OuterOptimizer ToOuterOptimizer(this TaskSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var o = settings.Optimizer;
        return o.Name switch
        {
            "fedavg" => new FedAvgOptimizer(o.Eta!.Value),
            "fedavgm" => new FedAvgMOptimizer(o.Eta!.Value, o.Mu!.Value),
            "diloco" => new DiLoCoOptimizer(o.Eta!.Value, o.Mu!.Value),
            "fedadam" => new FedAdamOptimizer(o.Eta!.Value, o.Beta1!.Value, o.Beta2!.Value, o.Tau!.Value),
            _ => throw new ArgumentException($"optimizer.name: unknown optimizer '{o.Name}'"),
        };
    }

    /// <summary>The settings form of an engine rule (a centered-clipping rule with a given centre has none).</summary>
    /// <exception cref="ArgumentException">The rule is centered clipping with a centre.</exception>
    public static RuleSpec ToRuleSpec(this AggregationRule rule) => rule switch
    {
        MeanRule => new RuleSpec("mean"),
        MedianRule => new RuleSpec("median"),
        TrimmedMeanRule t => new RuleSpec("trimmed-mean") { Beta = t.Beta },
        KrumRule k => new RuleSpec("krum") { F = k.F },
        MultiKrumRule m => new RuleSpec("multi-krum") { F = m.F, M = m.M },
        BulyanRule b => new RuleSpec("bulyan") { F = b.F },
        CenteredClippingRule { Center: null } c => new RuleSpec("centered-clipping") { Tau = c.Tau, Iterations = c.Iterations },
        GeometricMedianRule g => new RuleSpec("geometric-median") { Nu = g.Nu, Iterations = g.Iterations },
        _ => throw new ArgumentException($"the rule {rule?.Name} has no settings form (a centered-clipping centre is not a setting)", nameof(rule)),
    };

    /// <summary>The settings form of an engine pre-aggregation step.</summary>
    public static PreStepSpec ToPreStepSpec(this PreAggregationStep step) => step switch
    {
        ClipNormStep c => new PreStepSpec("clip-norm") { C = c.MaxNorm },
        NearestNeighbourMixingStep n => new PreStepSpec("nearest-neighbour-mixing") { F = n.F },
        BucketingStep b => new PreStepSpec("bucketing") { S = b.BucketSize, Seed = b.Seed },
        _ => throw new ArgumentException($"unknown step {step?.Name}", nameof(step)),
    };

    /// <summary>The settings form of an outer optimizer (every parameter explicit).</summary>
    public static OptimizerSpec ToOptimizerSpec(this OuterOptimizer optimizer) => optimizer switch
    {
        FedAvgOptimizer f => new OptimizerSpec("fedavg") { Eta = f.LearningRate },
        FedAvgMOptimizer m => new OptimizerSpec("fedavgm") { Eta = m.LearningRate, Mu = m.Momentum },
        DiLoCoOptimizer d => new OptimizerSpec("diloco") { Eta = d.LearningRate, Mu = d.Momentum },
        FedAdamOptimizer a => new OptimizerSpec("fedadam") { Eta = a.LearningRate, Beta1 = a.Beta1, Beta2 = a.Beta2, Tau = a.Tau },
        _ => throw new ArgumentException($"unknown optimizer {optimizer?.Name}", nameof(optimizer)),
    };
}
