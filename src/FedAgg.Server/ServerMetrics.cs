using System.Diagnostics.Metrics;
using FedAgg.Core.Updates;

namespace FedAgg.Server;

/// <summary>
/// The server's counters (meter <c>FedAgg.Server</c>): <c>fedagg.updates.accepted</c>, <c>fedagg.updates.rejected</c>
/// (tagged <c>status</c> with the status name), <c>fedagg.ingest.bytes</c> (payload bytes of accepted updates) and
/// <c>fedagg.models.served</c>; per published round <c>fedagg.round.duration</c> (open to published, s),
/// <c>fedagg.round.aggregation</c> (aggregation and optimizer, s) and <c>fedagg.anchor.gas</c> (gas of each anchorRound sent).
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "FedAgg.Server";

    private readonly Meter _meter;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _models;
    private readonly Counter<long> _rounds;

    /// <summary>Creates the counters on a meter from <paramref name="meterFactory"/> (or a private meter when null).</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public ServerMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _accepted = _meter.CreateCounter<long>("fedagg.updates.accepted", "{update}", "Updates stored and receipted (duplicates not counted)");
        _rejected = _meter.CreateCounter<long>("fedagg.updates.rejected", "{update}", "Submissions answered with a status other than accepted, by status");
        _bytes = _meter.CreateCounter<long>("fedagg.ingest.bytes", "By", "Payload bytes of accepted updates");
        _models = _meter.CreateCounter<long>("fedagg.models.served", "{model}", "Models sent on /fedagg/model/1.0.0");
        _rounds = _meter.CreateCounter<long>("fedagg.rounds.published", "{round}", "Rounds aggregated, anchored and published");
        RoundDuration = _meter.CreateHistogram<double>("fedagg.round.duration", "s", "From a round's opening to its publication");
        AggregationSeconds = _meter.CreateHistogram<double>("fedagg.round.aggregation", "s", "Aggregation and outer optimizer of a round");
        AnchorGas = _meter.CreateHistogram<long>("fedagg.anchor.gas", "{gas}", "Gas used by each anchorRound transaction the server sent");
    }

    /// <summary>Counts one answered submission.</summary>
    /// <param name="status">The answer's status.</param>
    /// <param name="payloadBytes">The payload length when accepted.</param>
    public void Submission(SubmitStatus status, long payloadBytes)
    {
        if (status == SubmitStatus.Accepted)
        {
            _accepted.Add(1);
            _bytes.Add(payloadBytes);
        }
        else
        {
            _rejected.Add(1, new KeyValuePair<string, object?>("status", status.ToString()));
        }
    }

    /// <summary>Seconds from a round's opening to its publication.</summary>
    public Histogram<double> RoundDuration { get; }

    /// <summary>Seconds of aggregation per round.</summary>
    public Histogram<double> AggregationSeconds { get; }

    /// <summary>Gas per anchorRound sent.</summary>
    public Histogram<long> AnchorGas { get; }

    /// <summary>Counts one published round.</summary>
    public void RoundPublished() => _rounds.Add(1);

    /// <summary>Counts one model sent.</summary>
    public void ModelServed() => _models.Add(1);

    /// <summary>Disposes the meter when it is private.</summary>
    public void Dispose() => _meter.Dispose();
}
