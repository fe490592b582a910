using FedAgg.Core.Identity;

namespace FedAgg.Libp2p.Tests.Host;

/// <summary>Hosts on 127.0.0.1 with free ports for the host tests, and bounded waits.</summary>
internal static class HostTestSupport
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    public static async Task<Libp2pHost> StartHostAsync(Action<Libp2pHostOptions>? configure = null, Ed25519PrivateKey? key = null)
    {
        var options = new Libp2pHostOptions { KeepAliveInterval = null };
        options.ListenAddresses.Add("/ip4/127.0.0.1/tcp/0");
        configure?.Invoke(options);
        var host = new Libp2pHost(key ?? Ed25519PrivateKey.Generate(), options);
        await host.StartAsync(CancellationToken.None);
        return host;
    }

    public static Multiaddress AddressOf(Libp2pHost host) => host.ListenAddresses[0].WithPeerId(host.LocalPeerId);

    public static async Task<T> Within<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Wait);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {Wait.TotalSeconds} s waiting for {what}.");
        }
    }

    public static async Task Within(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Wait);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {Wait.TotalSeconds} s waiting for {what}.");
        }
    }
}
