using FedAgg.Server.Hosting;
using FedAgg.Server.Tests.Support;
using Microsoft.Extensions.Options;

namespace FedAgg.Server.Tests.Hosting;

public sealed class OptionsTests
{
    [Fact]
    public async Task Start_OptionOutOfRange_FailsNamingTheOptionAndRange()
    {
        using var data = new TempDirectory();

        var thrown = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(data.Path, configure: o =>
        {
            o.MaxPayloadBytes = 0;
            o.Ledger = "0x12";
        }));

        Assert.Contains("FedAgg:Server:MaxPayloadBytes must be between 1 and 1099511627776 bytes; it is 0", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("FedAgg:Server:Ledger must be 0x followed by 40 hex digits", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_OnlyTheDataDirectoryIsMissing()
    {
        var problems = new FedAggServerOptions().Validate();

        Assert.Equal(["FedAgg:Server:DataDirectory is required: a directory path"], problems);
    }
}
