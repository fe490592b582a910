using FedAgg.TestKit.Chain;

namespace FedAgg.Chain.Tests;

[Trait("Category", "Interop")]
public sealed class FoundryTests
{
    [Fact]
    public async Task Anvil_Starts_AnswersWithItsChainIdAndFundsDevAccount()
    {
        await using var anvil = await AnvilInstance.StartAsync(chainId: 4242);

        Assert.Equal("0x1092", (await anvil.RpcAsync("eth_chainId")).GetString());
        Assert.Equal(Foundry.DevAddress0, Foundry.Cast("wallet", "address", "--private-key", Foundry.DevKey0));
        var balance = Foundry.Cast("balance", Foundry.DevAddress0, "--rpc-url", anvil.RpcUrl);
        Assert.Equal("10000000000000000000000", balance);
    }
}
