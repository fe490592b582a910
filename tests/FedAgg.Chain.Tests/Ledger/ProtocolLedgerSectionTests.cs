using System.Text.RegularExpressions;
using FedAgg.Chain.Ledger;

namespace FedAgg.Chain.Tests.Ledger;

/// <summary>docs/PROTOCOL.md's ledger section is what verifiers code against: every signature it lists must be in the compiled ABI.</summary>
public sealed partial class ProtocolLedgerSectionTests
{
    private static readonly string Document = File.ReadAllText(Path.Combine(FedAgg.TestKit.RepositoryRoot.Path, "docs", "PROTOCOL.md"));

    [Fact]
    public void LedgerSection_FunctionSignatures_AreInTheCompiledAbi()
    {
        var section = Document[Document.IndexOf("## On-chain anchoring", StringComparison.Ordinal)..Document.IndexOf("## Limits", StringComparison.Ordinal)];
        var functions = FunctionRow().Matches(section)
            .SelectMany(row => Signature().Matches(row.Groups["cell"].Value).Select(m => m.Groups["signature"].Value))
            .ToList();

        Assert.True(functions.Count >= 11, $"expected the ledger's functions in the table, found {functions.Count}: {string.Join(", ", functions)}");
        var abiSignatures = FedAggLedger.Abi.Functions.Select(f => f.Signature).ToHashSet();
        Assert.All(functions, signature => Assert.Contains(signature, abiSignatures));
    }

    [Fact]
    public void LedgerSection_Events_MatchTheCompiledAbi()
    {
        foreach (var name in new[] { "RoundAnchored", "CreditsClaimed" })
        {
            var abiEvent = FedAggLedger.Abi.GetEvent(name);
            var documented = Regex.Match(Document, $@"`{name}\((?<parameters>[^`]*)\)`").Groups["parameters"].Value;
            var types = documented.Split(',').Select(p => p.Trim().Split(' ')[0]);
            Assert.Equal(abiEvent.Signature, $"{name}({string.Join(',', types)})");
        }
    }

    [GeneratedRegex(@"^\| (?<cell>`[a-z][^|]*)\|", RegexOptions.Multiline)]
    private static partial Regex FunctionRow();

    [GeneratedRegex(@"`(?<signature>[a-z][a-zA-Z]*\([a-z0-9,\[\]]*\))`")]
    private static partial Regex Signature();
}
