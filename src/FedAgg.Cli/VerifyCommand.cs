using System.CommandLine;
using System.Text.Json;
using FedAgg.Chain;
using FedAgg.Chain.Rpc;
using FedAgg.Client;
using FedAgg.Core.Identity;
using FedAgg.Verification;

namespace FedAgg.Cli;

/// <summary>
/// <c>fedagg verify (--data DIR | --server MULTIADDR) --task ID --round R [--rpc URL --ledger ADDRESS] [--json]</c>: checks a
/// round end to end from a data directory or from what a server serves (docs/PROTOCOL.md, "Verifying a round"). Prints one line per check
/// (<c>PASS|FAIL|SKIP name: detail</c>) and a verdict; exit 0 when every check passes, 1 when one does not, 2 for bad input.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = "The server's data directory (payloads, models, optimizer state, manifests)" };
        var server = new Option<string?>("--server") { Description = "Fetch the round from a running server instead (its multiaddress with /p2p/<peer id>); with --data too, the server.addr in DIR", HelpName = "multiaddr" };
        var task = new Option<string>("--task") { Description = "The task ID", Required = true };
        var round = new Option<ulong>("--round") { Description = "The round, from 1", Required = true };
        var rpc = new Option<string?>("--rpc") { Description = "An EVM JSON-RPC endpoint (http or https) to check the anchoring on" };
        var ledger = new Option<string?>("--ledger") { Description = "The FedAggLedger's address (with --rpc)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text lines" };
        var command = new Command("verify", "Verify a round end to end: signatures, receipts, aggregation, credits, anchor")
        {
            data, server, task, round, rpc, ledger, json,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var taskId = parse.GetValue(task)!;
            var roundNumber = parse.GetValue(round);
            var directory = parse.GetValue(data)?.FullName;
            var serverAddress = parse.GetValue(server);
            if (roundNumber == 0)
            {
                return Usage("--round must be at least 1 (rounds count from 1)");
            }

            if (directory is null && serverAddress is null)
            {
                return Usage("give --data DIR (a server's data directory) or --server MULTIADDR");
            }

            if (directory is not null && !Directory.Exists(directory))
            {
                return Usage($"the data directory {directory} does not exist");
            }

            if (serverAddress is null && directory is not null)
            {
                var manifestPath = RoundDataLayout.ManifestPath(directory, taskId, roundNumber);
                if (!File.Exists(manifestPath))
                {
                    return Usage($"{directory} holds no manifest for task '{taskId}' round {roundNumber} (expected {manifestPath})");
                }
            }

            var rpcUrl = parse.GetValue(rpc);
            var ledgerText = parse.GetValue(ledger);
            if ((rpcUrl is null) != (ledgerText is null))
            {
                return Usage("--rpc and --ledger go together");
            }

            EthereumRpcClient? client = null;
            EthereumAddress ledgerAddress = default;
            if (rpcUrl is not null)
            {
                if (!Uri.TryCreate(rpcUrl, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
                {
                    return Usage($"--rpc must be an http or https URL, got '{rpcUrl}'");
                }

                if (!EthereumAddress.TryParse(ledgerText, out ledgerAddress))
                {
                    return Usage($"--ledger must be a 20-byte 0x-hex address, got '{ledgerText}'");
                }

                client = new EthereumRpcClient(endpoint);
            }

            using (client)
            {
                IReadOnlyList<VerificationCheck> checks;
                if (serverAddress is null)
                {
                    checks = await new RoundVerifier().VerifyAsync(
                        new DataDirectoryRoundArtifacts(directory!, taskId, roundNumber), client is null ? null : new RoundChain(client, ledgerAddress), cancellationToken)
                        .ConfigureAwait(false);
                }
                else
                {
                    try
                    {
                        var (address, _) = AdminCommand.ResolveServer(directory is null ? null : new DirectoryInfo(directory), serverAddress.Length == 0 ? null : serverAddress, null, needKey: false);
                        using var key = Ed25519PrivateKey.Generate(); // a throwaway identity: verifying needs no standing with the server
                        await using var connection = await FedAggClient.ConnectAsync(address, key, cancellationToken: cancellationToken).ConfigureAwait(false);
                        using var artifacts = await ServerRoundArtifacts.FetchAsync(connection, taskId, roundNumber, cancellationToken).ConfigureAwait(false);
                        checks = await new RoundVerifier().VerifyAsync(artifacts, client is null ? null : new RoundChain(client, ledgerAddress), cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is ArgumentException or FileNotFoundException)
                    {
                        return Usage(e.Message);
                    }
                    catch (Exception e) when (e is Libp2p.Libp2pException or FedAggProtocolException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                    {
                        Console.Error.WriteLine($"fedagg verify: error: the server could not be reached or answered badly: {OneLine(e.Message)}");
                        return 1;
                    }
                }

                var verified = checks.All(static c => c.Passed);
                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(Report(taskId, roundNumber, verified, checks));
                }
                else
                {
                    foreach (var check in checks)
                    {
                        Console.Out.WriteLine($"{check.Outcome.ToString().ToUpperInvariant()} {check.Name}: {OneLine(check.Detail)}");
                    }

                    var failed = checks.Count(static c => c.Outcome == CheckOutcome.Fail);
                    var skipped = checks.Count(static c => c.Outcome == CheckOutcome.Skip);
                    Console.Out.WriteLine(verified
                        ? $"VERIFIED task '{taskId}' round {roundNumber}: all {checks.Count} checks passed"
                        : $"NOT VERIFIED task '{taskId}' round {roundNumber}: {failed} of {checks.Count} checks failed, {skipped} skipped");
                }

                return verified ? 0 : 1;
            }
        });
        return command;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"fedagg verify: error: {message}");
        return 2;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static string Report(string taskId, ulong round, bool verified, IReadOnlyList<VerificationCheck> checks)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("taskId", taskId);
            writer.WriteNumber("round", round);
            writer.WriteBoolean("verified", verified);
            writer.WriteStartArray("checks");
            foreach (var check in checks)
            {
                writer.WriteStartObject();
                writer.WriteString("name", check.Name);
                writer.WriteString("outcome", check.Outcome.ToString().ToLowerInvariant());
                writer.WriteString("detail", check.Detail);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
