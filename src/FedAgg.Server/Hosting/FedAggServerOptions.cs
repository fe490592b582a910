using FedAgg.Core.Codecs;
using FedAgg.Storage;
using Microsoft.Extensions.Options;

namespace FedAgg.Server.Hosting;

/// <summary>
/// The server's settings, bound from the configuration section <see cref="SectionName"/> (appsettings.json, environment
/// variables <c>FedAgg__Server__…</c>) and checked when the host starts: a bad value fails the start with a message
/// naming the option and its allowed range.
/// </summary>
public sealed class FedAggServerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "FedAgg:Server";

    /// <summary>
    /// The data directory (required): the update store (<c>tasks/</c>), the model store (<c>models/</c>), the grain
    /// database (<c>grains.db</c>) and, by default, the server's identity key (<c>server.key</c>).
    /// </summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>A libp2p configuration file (libp2p-config/server.json format): identity key file, listen addresses, limits. Default none.</summary>
    public string? Libp2pConfigFile { get; set; }

    /// <summary>The identity key file; default the configuration file's <c>identityKeyFile</c>, else <c>&lt;data&gt;/server.key</c>. Created when missing.</summary>
    public string? IdentityKeyFile { get; set; }

    /// <summary>Addresses to listen on; when empty, the configuration file's, else <c>/ip4/0.0.0.0/tcp/4001</c>.</summary>
    public IList<string> ListenAddresses { get; } = [];

    /// <summary>The chain id updates must name (0, the default, without a chain).</summary>
    public ulong ChainId { get; set; }

    /// <summary>The ledger address updates must name: 0x and 40 hex digits. Default all zeros (no chain).</summary>
    public string Ledger { get; set; } = "0x0000000000000000000000000000000000000000";

    /// <summary>The largest update payload taken, in bytes (status 8 above it). Default 1 GiB; 1 to 1 TiB.</summary>
    public long MaxPayloadBytes { get; set; } = UpdateStoreOptions.DefaultMaxUpdateBytes;

    /// <summary>How long a peer has to send its request header, and to take the answer. Default 10 s; 100 ms to 10 min.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an update's payload may go without a byte. Default 30 s; 1 ms to 10 min.</summary>
    public TimeSpan PayloadIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many submissions one peer may make per <see cref="RateLimitWindow"/>. Default 10; 1 to 1,000,000.</summary>
    public int MaxSubmissionsPerWindow { get; set; } = 10;

    /// <summary>The rate limit's sliding window. Default 1 min; 1 s to 1 day.</summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How the update store makes commits durable. Default <see cref="DurabilityMode.GroupCommit"/>.</summary>
    public DurabilityMode DurabilityMode { get; set; } = DurabilityMode.GroupCommit;

    /// <summary>The SQLite file of grain state and reminders; default <c>&lt;data&gt;/grains.db</c>.</summary>
    public string? GrainDatabase { get; set; }

    /// <summary>The data directory as an absolute path.</summary>
    public string DataPath => Path.GetFullPath(DataDirectory);

    /// <summary>The grain database's path.</summary>
    public string GrainDatabasePath => Path.GetFullPath(GrainDatabase ?? Path.Combine(DataPath, "grains.db"));

    /// <summary>The ledger address as 20 bytes (zeros when it does not parse; <see cref="Validate"/> refuses that).</summary>
    public byte[] LedgerBytes => Hex.TryDecode(Ledger, 20) ?? new byte[20];

    /// <summary>Every problem with the options, each naming the option and its allowed range; empty when valid.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Require(bool ok, string option, string rule)
        {
            if (!ok)
            {
                problems.Add($"{SectionName}:{option} {rule}");
            }
        }

        Require(!string.IsNullOrWhiteSpace(DataDirectory), nameof(DataDirectory), "is required: a directory path");
        Require(Hex.TryDecode(Ledger ?? "", 20) is not null, nameof(Ledger), $"must be 0x followed by 40 hex digits; it is '{Ledger}'");
        Require(MaxPayloadBytes is >= 1 and <= UpdateStoreOptions.MaxAllowedUpdateBytes, nameof(MaxPayloadBytes),
            $"must be between 1 and {UpdateStoreOptions.MaxAllowedUpdateBytes} bytes; it is {MaxPayloadBytes}");
        Require(RequestTimeout >= TimeSpan.FromMilliseconds(100) && RequestTimeout <= TimeSpan.FromMinutes(10), nameof(RequestTimeout),
            $"must be between 100 ms and 10 min; it is {RequestTimeout}");
        Require(PayloadIdleTimeout >= TimeSpan.FromMilliseconds(1) && PayloadIdleTimeout <= TimeSpan.FromMinutes(10), nameof(PayloadIdleTimeout),
            $"must be between 1 ms and 10 min; it is {PayloadIdleTimeout}");
        Require(MaxSubmissionsPerWindow is >= 1 and <= 1_000_000, nameof(MaxSubmissionsPerWindow), $"must be between 1 and 1000000; it is {MaxSubmissionsPerWindow}");
        Require(RateLimitWindow >= TimeSpan.FromSeconds(1) && RateLimitWindow <= TimeSpan.FromDays(1), nameof(RateLimitWindow),
            $"must be between 1 s and 1 day; it is {RateLimitWindow}");
        Require(Enum.IsDefined(DurabilityMode), nameof(DurabilityMode), $"must be {nameof(DurabilityMode.FsyncPerUpdate)} or {nameof(DurabilityMode.GroupCommit)}");
        foreach (var address in ListenAddresses)
        {
            Require(Libp2p.Multiaddress.TryParse(address, out _), nameof(ListenAddresses), $"must hold multiaddresses such as /ip4/0.0.0.0/tcp/4001; '{address}' is not one");
        }

        return problems;
    }
}

/// <summary>Runs <see cref="FedAggServerOptions.Validate"/> when the host starts.</summary>
internal sealed class FedAggServerOptionsValidator : IValidateOptions<FedAggServerOptions>
{
    public ValidateOptionsResult Validate(string? name, FedAggServerOptions options)
    {
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
