using System.Net;
using FedAgg.Core.Identity;
using FedAgg.Libp2p;
using FedAgg.Libp2p.Configuration;
using Microsoft.Extensions.Logging;

namespace FedAgg.Cli;

/// <summary>What every <c>fedagg peer</c> command needs: the configuration file, the identity key, console logging.</summary>
internal static class PeerSetup
{
    private const string DefaultConfigRelative = "libp2p-config/server.json";

    /// <summary>
    /// Loads <paramref name="explicitFile"/>, or the <c>libp2p-config/server.json</c> of the current directory or the
    /// nearest folder above it. Returns <c>null</c> when no file was named, none was found and <paramref name="required"/> is false.
    /// </summary>
    public static Libp2pConfiguration? LoadConfiguration(FileInfo? explicitFile, bool required = true)
    {
        if (explicitFile is not null)
        {
            return Libp2pConfiguration.Load(explicitFile.FullName);
        }

        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, DefaultConfigRelative);
            if (File.Exists(candidate))
            {
                return Libp2pConfiguration.Load(candidate);
            }
        }

        return required
            ? throw new PeerUsageException($"no --config given and no {DefaultConfigRelative} in {Environment.CurrentDirectory} or any folder above it")
            : null;
    }

    /// <summary>Loads the configured identity key; a missing file says how to create it (see <see cref="KeyFile.Load"/>).</summary>
    public static Ed25519PrivateKey LoadKey(Libp2pConfiguration configuration, string commandName)
    {
        var key = KeyFile.Load(configuration.IdentityKeyFile, out var warning);
        if (warning is not null)
        {
            Console.Error.WriteLine($"fedagg {commandName}: {warning}");
        }

        return key;
    }

    /// <summary><paramref name="address"/> (an <c>/ip4|ip6/…/tcp/…</c> address) with its TCP port replaced.</summary>
    public static Multiaddress WithPort(Multiaddress address, int port) =>
        address.TryGetIPEndPoint(out var endPoint)
            ? Multiaddress.FromTcpEndPoint(new IPEndPoint(endPoint.Address, port))
            : throw new PeerUsageException($"cannot set the port of {address}: not an IP/TCP address");

    /// <summary>Host log messages at <paramref name="minimum"/> and above, one line each on stderr.</summary>
    public static ILoggerFactory CreateLoggerFactory(LogLevel minimum) => new StderrLoggerFactory(minimum);

    private sealed class StderrLoggerFactory(LogLevel minimum) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new StderrLogger(minimum, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class StderrLogger(LogLevel minimum, string category) : ILogger
    {
        private static readonly Lock WriteLock = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = PeerCommand.OneLine(formatter(state, exception));
            var line = exception is null ? $"{Level(logLevel)}: {category}: {message}" : $"{Level(logLevel)}: {category}: {message} ({PeerCommand.OneLine(exception.Message)})";
            lock (WriteLock)
            {
                Console.Error.WriteLine(line);
            }
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "error",
            _ => "critical",
        };
    }
}
