using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using FedAgg.Core.Merkle;
using FedAgg.TestKit;
using FedAgg.TestKit.Chain;

namespace FedAgg.Chain.Tests.Contracts;

/// <summary>
/// A real anvil with the committed FedAggLedger artifact deployed by <c>cast send --create</c>, driven only through
/// Foundry's <c>cast</c> (the C# client is not involved): one per test class.
/// Roles: admin = dev account 0, anchor = dev account 1, coordinator = dev account 2; dev account 3 holds no role.
/// </summary>
public class LedgerFixture : IAsyncLifetime
{
    /// <summary>anvil's third dev account: the coordinator.</summary>
    public const string CoordinatorKey = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

    /// <summary>The address of <see cref="CoordinatorKey"/>.</summary>
    public const string CoordinatorAddress = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

    /// <summary>anvil's fourth dev account: holds no role.</summary>
    public const string OutsiderKey = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

    /// <summary>The address of <see cref="OutsiderKey"/>.</summary>
    public const string OutsiderAddress = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

    public const string AdminKey = Foundry.DevKey0;
    public const string AdminAddress = Foundry.DevAddress0;
    public const string AnchorKey = Foundry.DevKey1;
    public const string AnchorAddress = Foundry.DevAddress1;

    public const string AnchorRoundSignature = "anchorRound(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)";
    public const string ClaimSignature = "claim(bytes32,address,uint256,bytes32[])";
    public const string ArtifactPath = "contracts/artifacts/FedAggLedger.json";

    private AnvilInstance? _anvil;
    private string? _address;

    public AnvilInstance Anvil => _anvil ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>The ledger's address (as anvil's receipt spells it).</summary>
    public string Address => _address ?? throw new InvalidOperationException("The fixture is not initialized.");

    public string RpcUrl => Anvil.RpcUrl;

    /// <summary>The deployment's receipt.</summary>
    public TxReceipt? Deployment { get; private set; }

    /// <summary>More anvil arguments (e.g. step tracing for gas breakdowns).</summary>
    protected virtual string[] AnvilArguments => [];

    public async Task InitializeAsync()
    {
        _anvil = await AnvilInstance.StartAsync(31337, AnvilArguments);
        using var artifact = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, ArtifactPath)));
        var bytecode = artifact.RootElement.GetProperty("bytecode").GetString()!;
        var arguments = Foundry.Cast("abi-encode", "constructor(address,address,address)", AdminAddress, AnchorAddress, CoordinatorAddress);
        Deployment = TxReceipt.Parse(Foundry.Cast("send", "--private-key", AdminKey, "--rpc-url", RpcUrl, "--json", "--create", bytecode + arguments[2..]));
        Assert.True(Deployment.Succeeded, "the deployment reverted");
        _address = Deployment.Json.GetProperty("contractAddress").GetString();
    }

    public async Task DisposeAsync()
    {
        if (_anvil is not null)
        {
            await _anvil.DisposeAsync();
        }
    }

    /// <summary><c>keccak256(bytes(text))</c> by <c>cast keccak</c> (for expected values: signatures, roles, commitments).</summary>
    public static string Keccak(string text) => Foundry.Cast("keccak", text);

    /// <summary>
    /// <c>keccak256(bytes(text))</c> by FedAgg.Core, without starting a process: for test inputs (task keys, hashes of
    /// labels), never for expected values.
    /// </summary>
    public static string InputHash(string text) => Keccak256.HashToBytes32(Encoding.UTF8.GetBytes(text)).ToString();

    /// <summary>The ABI encoding of <paramref name="arguments"/> by <c>cast abi-encode</c>, e.g. <c>f(bytes32,uint64)</c>.</summary>
    public static string AbiEncode(string signature, params string[] arguments) => Foundry.Cast(["abi-encode", signature, .. arguments]);

    /// <summary>Selector and ABI-encoded arguments by <c>cast calldata</c>: a call's input, or a custom error's revert data.</summary>
    public static string Calldata(string signature, params string[] arguments) => Foundry.Cast(["calldata", signature, .. arguments]);

    /// <summary>A cast array argument: <c>[0x…,0x…]</c>.</summary>
    public static string Array(IEnumerable<string> items) => "[" + string.Join(',', items) + "]";

    /// <summary>Sends a transaction from <paramref name="key"/> to the ledger with <c>cast send</c>; fails the test unless it succeeds.</summary>
    public TxReceipt Send(string key, string signature, params string[] arguments)
    {
        var receipt = TxReceipt.Parse(Foundry.Cast(["send", Address, signature, .. arguments, "--private-key", key, "--rpc-url", RpcUrl, "--json"]));
        Assert.True(receipt.Succeeded, $"{signature} reverted");
        return receipt;
    }

    /// <summary>Runs <c>cast send</c> expecting it to fail; returns its stderr (which quotes the revert data).</summary>
    public string SendExpectingFailure(string key, string signature, params string[] arguments)
    {
        var result = Foundry.RunCast(["send", Address, signature, .. arguments, "--private-key", key, "--rpc-url", RpcUrl, "--json"]);
        Assert.True(result.ExitCode != 0, $"cast send {signature} succeeded but was expected to revert:\n{result.StandardOutput}");
        return result.StandardError + result.StandardOutput;
    }

    /// <summary>A view's raw return data by <c>cast call</c> (no return types, so cast decodes nothing).</summary>
    public string Call(string signature, params string[] arguments) => Foundry.Cast(["call", Address, signature, .. arguments, "--rpc-url", RpcUrl]);

    /// <summary>A view returning one unsigned word.</summary>
    public BigInteger CallUInt(string signature, params string[] arguments) => ParseUInt(Call(signature, arguments));

    /// <summary>
    /// The revert data of a call from <paramref name="from"/> (<c>eth_call</c> with calldata from <c>cast calldata</c>);
    /// fails the test if the call does not revert.
    /// </summary>
    public Task<string> RevertDataAsync(string from, string signature, params string[] arguments) =>
        RevertDataOfAsync(from, Address, Calldata(signature, arguments));

    /// <summary>The revert data of an <c>eth_call</c> (a contract creation when <paramref name="to"/> is null).</summary>
    public async Task<string> RevertDataOfAsync(string from, string? to, string data)
    {
        var call = new Dictionary<string, string> { ["from"] = from, ["data"] = data };
        if (to is not null)
        {
            call["to"] = to;
        }

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var body = JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 1, method = "eth_call", @params = new object[] { call, "latest" } });
        using var response = await client.PostAsync(new Uri(RpcUrl), new StringContent(body, Encoding.UTF8, "application/json"));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(document.RootElement.TryGetProperty("error", out var error), $"the call was expected to revert but returned {document.RootElement}");
        Assert.True(error.TryGetProperty("data", out var revertData), $"the revert carries no data: {error}");
        return revertData.GetString()!;
    }

    /// <summary>Advances anvil's clock by <paramref name="seconds"/> and mines a block at the new time.</summary>
    public async Task IncreaseTimeAsync(long seconds)
    {
        await Anvil.RpcAsync("evm_increaseTime", seconds);
        await Anvil.RpcAsync("evm_mine");
    }

    /// <summary>The latest block's timestamp.</summary>
    public async Task<ulong> LatestTimestampAsync()
    {
        var block = await Anvil.RpcAsync("eth_getBlockByNumber", "latest", false);
        return ParseUlong(block.GetProperty("timestamp").GetString()!);
    }

    /// <summary>The timestamp of the block that holds <paramref name="receipt"/>'s transaction, by <c>cast block</c>.</summary>
    public ulong BlockTimestamp(TxReceipt receipt) =>
        ulong.Parse(Foundry.Cast("block", ParseUlong(receipt.BlockNumber).ToString(CultureInfo.InvariantCulture), "--field", "timestamp", "--rpc-url", RpcUrl), CultureInfo.InvariantCulture);

    /// <summary>A transaction's input bytes.</summary>
    public async Task<byte[]> InputOfAsync(string transactionHash)
    {
        var transaction = await Anvil.RpcAsync("eth_getTransactionByHash", transactionHash);
        return Convert.FromHexString(transaction.GetProperty("input").GetString()![2..]);
    }

    public static BigInteger ParseUInt(string hex)
    {
        var digits = hex.StartsWith("0x", StringComparison.Ordinal) ? hex[2..] : hex;
        return digits.Length == 0 ? BigInteger.Zero : BigInteger.Parse("0" + digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    public static ulong ParseUlong(string hex) => (ulong)ParseUInt(hex);

    /// <summary>A 32-byte word as 0x-hex of <paramref name="value"/>.</summary>
    public static string Word(BigInteger value) => "0x" + value.ToString("x64", CultureInfo.InvariantCulture)[^64..];

    /// <summary>A 32-byte word holding <paramref name="address"/> left-padded (an indexed address topic).</summary>
    public static string AddressTopic(string address) => "0x" + new string('0', 24) + address[2..].ToLowerInvariant();
}

/// <summary>A <see cref="LedgerFixture"/> whose anvil records execution steps, so <c>debug_traceTransaction</c> gives per-opcode gas.</summary>
public sealed class TracingLedgerFixture : LedgerFixture
{
    protected override string[] AnvilArguments => ["--steps-tracing"];
}

/// <summary>A receipt as <c>cast send --json</c> prints it.</summary>
public sealed record TxReceipt(JsonElement Json)
{
    public bool Succeeded => Json.GetProperty("status").GetString() == "0x1";

    public long GasUsed => (long)LedgerFixture.ParseUInt(Json.GetProperty("gasUsed").GetString()!);

    public string TransactionHash => Json.GetProperty("transactionHash").GetString()!;

    public string BlockNumber => Json.GetProperty("blockNumber").GetString()!;

    public IReadOnlyList<(string Address, string[] Topics, string Data)> Logs =>
    [
        .. Json.GetProperty("logs").EnumerateArray().Select(log => (
            log.GetProperty("address").GetString()!,
            log.GetProperty("topics").EnumerateArray().Select(t => t.GetString()!).ToArray(),
            log.GetProperty("data").GetString()!)),
    ];

    public static TxReceipt Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return new TxReceipt(document.RootElement.Clone());
    }
}
