using System.Numerics;

namespace FedAgg.Chain.Sending;

/// <summary>How <see cref="TransactionSender"/> prices, sends and confirms transactions.</summary>
public sealed class TransactionSenderOptions
{
    /// <summary>Blocks that must include the transaction (its own block counts as one) before it counts as confirmed. Default 1; 1 to 128.</summary>
    public int Confirmations { get; set; } = 1;

    /// <summary>Percent added to the node's gas estimate for the gas limit. Default 25; 0 to 400.</summary>
    public int GasHeadroomPercent { get; set; } = 25;

    /// <summary>The tip used when the node cannot suggest one (<c>eth_maxPriorityFeePerGas</c> unsupported), in wei. Default 1 gwei.</summary>
    public BigInteger FallbackPriorityFeePerGas { get; set; } = 1_000_000_000;

    /// <summary>The most this sender ever offers per gas, bumps included, in wei; null for no cap. Default null.</summary>
    public BigInteger? MaxFeePerGasCap { get; set; }

    /// <summary>How long a transaction may stay unmined before it is re-broadcast or re-priced. Default 30 s; 100 ms to 1 h.</summary>
    public TimeSpan ResubmitAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Percent by which both fee fields rise on each re-pricing (nodes require at least 10). Default 15; 10 to 200.</summary>
    public int FeeBumpPercent { get; set; } = 15;

    /// <summary>Re-pricings allowed for one transaction before it only keeps being re-broadcast. Default 5; 0 to 50.</summary>
    public int MaxFeeBumps { get; set; } = 5;

    /// <summary>How often the node is asked for the receipt. Default 500 ms; 10 ms to 1 min.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long <see cref="TransactionSender.SendAsync"/> waits for confirmation in all before it gives up. Default 10 min; 1 s to 1 day.</summary>
    public TimeSpan ConfirmationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of its range.</summary>
    public void Validate()
    {
        Check(Confirmations is >= 1 and <= 128, nameof(Confirmations), Confirmations, "1 to 128");
        Check(GasHeadroomPercent is >= 0 and <= 400, nameof(GasHeadroomPercent), GasHeadroomPercent, "0 to 400");
        Check(FallbackPriorityFeePerGas >= 0, nameof(FallbackPriorityFeePerGas), FallbackPriorityFeePerGas, "at least 0");
        Check(MaxFeePerGasCap is null || MaxFeePerGasCap > 0, nameof(MaxFeePerGasCap), MaxFeePerGasCap!, "null or above 0");
        Check(ResubmitAfter >= TimeSpan.FromMilliseconds(100) && ResubmitAfter <= TimeSpan.FromHours(1), nameof(ResubmitAfter), ResubmitAfter, "100 ms to 1 h");
        Check(FeeBumpPercent is >= 10 and <= 200, nameof(FeeBumpPercent), FeeBumpPercent, "10 to 200");
        Check(MaxFeeBumps is >= 0 and <= 50, nameof(MaxFeeBumps), MaxFeeBumps, "0 to 50");
        Check(PollInterval >= TimeSpan.FromMilliseconds(10) && PollInterval <= TimeSpan.FromMinutes(1), nameof(PollInterval), PollInterval, "10 ms to 1 min");
        Check(ConfirmationTimeout >= TimeSpan.FromSeconds(1) && ConfirmationTimeout <= TimeSpan.FromDays(1), nameof(ConfirmationTimeout), ConfirmationTimeout, "1 s to 1 day");
    }

    private static void Check(bool valid, string name, object value, string range)
    {
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{nameof(TransactionSenderOptions)}.{name} must be {range}.");
        }
    }
}
