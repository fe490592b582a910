using System.Globalization;

namespace FedAgg.Chain.Tests.Contracts;

/// <summary>The arguments of one <c>anchorRound</c> call, as cast arguments (0x-hex words, decimal numbers).</summary>
public sealed record LedgerRound(string TaskKey, ulong Round, string ParentModelHash, string ModelHash, string UpdatesRoot, string CreditsRoot, string SettingsHash, uint AcceptedCount)
{
    public const string EncodingSignature = "f(bytes32,uint64,bytes32,bytes32,bytes32,bytes32,bytes32,uint32)";

    /// <summary>A round of <paramref name="taskKey"/> after <paramref name="parentModelHash"/> with hashes derived from <paramref name="label"/>.</summary>
    public static LedgerRound Derive(string taskKey, ulong round, string parentModelHash, string settingsHash, string label, uint acceptedCount = 3, string? creditsRoot = null) =>
        new(taskKey, round, parentModelHash, LedgerFixture.InputHash($"model-{label}-{round}"), LedgerFixture.InputHash($"updates-{label}-{round}"),
            creditsRoot ?? LedgerFixture.InputHash($"credits-{label}-{round}"), settingsHash, acceptedCount);

    /// <summary>The eight <c>anchorRound</c> arguments in order.</summary>
    public string[] Arguments =>
    [
        TaskKey, Round.ToString(CultureInfo.InvariantCulture), ParentModelHash, ModelHash, UpdatesRoot, CreditsRoot, SettingsHash,
        AcceptedCount.ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>The commitment computed without the contract: <c>cast keccak $(cast abi-encode "f(bytes32,uint64,…)" …)</c>.</summary>
    public string ExpectedCommitment() => LedgerFixture.Keccak(LedgerFixture.AbiEncode(EncodingSignature, Arguments));

    /// <summary>The data of the <c>RoundAnchored</c> event: the six non-indexed parts, by cast abi-encode.</summary>
    public string ExpectedEventData() =>
        LedgerFixture.AbiEncode("f(bytes32,bytes32,bytes32,bytes32,bytes32,uint32)", ParentModelHash, ModelHash, UpdatesRoot, CreditsRoot, SettingsHash,
            AcceptedCount.ToString(CultureInfo.InvariantCulture));
}
