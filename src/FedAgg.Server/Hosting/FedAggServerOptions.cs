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

    /// <summary>
    /// The chain rounds are anchored on (section <c>FedAgg:Server:Chain</c>). Without <see cref="FedAggChainOptions.RpcUrl"/>
    /// rounds are published without anchoring; with it, <see cref="Ledger"/> and <see cref="ChainId"/> name the ledger and
    /// must match the node.
    /// </summary>
    public FedAggChainOptions Chain { get; set; } = new();

    /// <summary>
    /// The peer ids allowed to use <c>/fedagg/admin/1.0.0</c>. Every other peer is refused (status 4) and the attempt logged.
    /// </summary>
    public IList<string> Coordinators { get; } = [];

    /// <summary>
    /// Where grain state and reminders live: <c>sqlite</c> (default: <see cref="GrainDatabase"/>, one embedded file) or
    /// <c>postgresql</c> (<see cref="PostgresConnectionString"/>; several servers must not share one database).
    /// </summary>
    public string GrainStorage { get; set; } = "sqlite";

    /// <summary>The Npgsql connection string with <see cref="GrainStorage"/> <c>postgresql</c>.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Whether the next round opens by itself once a round is published (default true).</summary>
    public bool AutoOpenNextRound { get; set; } = true;

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
        Require(GrainStorage is "sqlite" or "postgresql", nameof(GrainStorage), $"must be sqlite or postgresql; it is '{GrainStorage}'");
        Require(GrainStorage != "postgresql" || !string.IsNullOrWhiteSpace(PostgresConnectionString), nameof(PostgresConnectionString),
            "is required with GrainStorage postgresql (e.g. Host=127.0.0.1;Port=5432;Username=fedagg;Database=fedagg)");
        if (Chain.RpcUrl is { } rpc)
        {
            Require(Uri.TryCreate(rpc, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps),
                "Chain:RpcUrl", $"must be an http(s) URL such as http://127.0.0.1:8545; it is '{rpc}'");
            Require(!string.IsNullOrWhiteSpace(Chain.AnchorKeyFile), "Chain:AnchorKeyFile", "is required with Chain:RpcUrl: the Ethereum key file of an account with ANCHOR_ROLE");
            Require(Chain.AnchorKeyFile is null || File.Exists(Chain.AnchorKeyFile), "Chain:AnchorKeyFile", $"names a file that does not exist: '{Chain.AnchorKeyFile}'");
            Require(Chain.RegistrarKeyFile is null || File.Exists(Chain.RegistrarKeyFile), "Chain:RegistrarKeyFile", $"names a file that does not exist: '{Chain.RegistrarKeyFile}'");
            Require(ChainId != 0, nameof(ChainId), "must be the chain's id (not 0) when Chain:RpcUrl is set");
            Require(Hex.TryDecode(Ledger ?? "", 20) is { } ledger && ledger.Any(static b => b != 0), nameof(Ledger), "must be the ledger's address when Chain:RpcUrl is set");
        }

        Require(Chain.Confirmations is >= 1 and <= 64, "Chain:Confirmations", $"must be between 1 and 64; it is {Chain.Confirmations}");
        Require(Chain.PollInterval >= TimeSpan.FromMilliseconds(10) && Chain.PollInterval <= TimeSpan.FromMinutes(1), "Chain:PollInterval",
            $"must be between 10 ms and 1 min; it is {Chain.PollInterval}");
        foreach (var coordinator in Coordinators)
        {
            Require(Core.Identity.PeerId.TryParse(coordinator, out _), nameof(Coordinators), $"must hold peer ids (12D3KooW…); '{coordinator}' is not one");
        }

        foreach (var address in ListenAddresses)
        {
            Require(Libp2p.Multiaddress.TryParse(address, out _), nameof(ListenAddresses), $"must hold multiaddresses such as /ip4/0.0.0.0/tcp/4001; '{address}' is not one");
        }

        return problems;
    }
}

/// <summary>Runs <see cref="FedAggServerOptions.Validate"/> when the host starts.</summary>
/// <summary>Where and how rounds are anchored (see <see cref="FedAggServerOptions.Chain"/>).</summary>
public sealed class FedAggChainOptions
{
    /// <summary>The node's JSON-RPC URL; null: no chain.</summary>
    public string? RpcUrl { get; set; }

    /// <summary>The Ethereum key file (hex private key, mode 0600) of the account with ANCHOR_ROLE.</summary>
    public string? AnchorKeyFile { get; set; }

    /// <summary>The key file of the account with COORDINATOR_ROLE that registers tasks; the anchor key when null.</summary>
    public string? RegistrarKeyFile { get; set; }

    /// <summary>Confirmations an anchor waits for (default 1).</summary>
    public int Confirmations { get; set; } = 1;

    /// <summary>How often a sent transaction's receipt is polled (default 200 ms).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);
}

internal sealed class FedAggServerOptionsValidator : IValidateOptions<FedAggServerOptions>
{
    public ValidateOptionsResult Validate(string? name, FedAggServerOptions options)
    {
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
