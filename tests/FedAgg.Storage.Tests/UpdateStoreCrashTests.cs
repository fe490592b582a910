using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FedAgg.TestKit.Processes;
using Xunit.Abstractions;

namespace FedAgg.Storage.Tests;

/// <summary>
/// Starts the crash probe (concurrent writers committing updates and printing an ACK line after each commit returns),
/// kills it with SIGKILL at a random moment, reopens the store, and checks that every acknowledged update survived with
/// its exact bytes, that recovery found no corruption and that no temporary file is left. Roots are reused across
/// repetitions, so recovery also runs on top of earlier crashes (and the store keeps working after them).
/// </summary>
[Trait("Category", "Crash")]
public sealed class UpdateStoreCrashTests : IDisposable
{
    private const int Repetitions = 20;
    private const int RepetitionsPerRoot = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory = new();
    private readonly ITestOutputHelper _output;

    public UpdateStoreCrashTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Kill_AtRandomMoments_EveryAcknowledgedUpdateSurvives()
    {
        var random = new Random(20_250_611);
        var acknowledged = new List<Ack>();
        for (var repetition = 0; repetition < Repetitions; repetition++)
        {
            if (repetition % RepetitionsPerRoot == 0)
            {
                acknowledged.Clear();
            }

            var root = _directory.Combine($"root-{repetition / RepetitionsPerRoot}");
            var mode = repetition % 2 == 0 ? "group" : "per-update";
            var killAfterAcks = random.Next(4) == 0 ? 0 : random.Next(1, 16);
            var killAfter = TimeSpan.FromMilliseconds(random.Next(0, 250));
            var context = $"repetition {repetition} ({mode}, kill after {(killAfterAcks > 0 ? $"{killAfterAcks} ACKs" : $"{killAfter.TotalMilliseconds} ms")})";

            var acks = RunAndKill(root, random.Next(), mode, killAfterAcks, killAfter, context);
            acknowledged.AddRange(acks);
            var report = CheckStore(root, acknowledged, context);
            _output.WriteLine(
                $"{context}: {acks.Count} ACKs; reopened with {report.Updates} updates, removed {report.RemovedTemporaryFiles.Count} temporary files and {report.RemovedUnjournaledPayloads.Count} unjournalled payloads, truncated {report.TruncatedJournals.Count} journals");
        }
    }

    private static List<Ack> RunAndKill(string root, int seed, string mode, int killAfterAcks, TimeSpan killAfter, string context)
    {
        var probe = Path.Combine(AppContext.BaseDirectory, "FedAgg.Storage.CrashProbe.dll");
        Assert.True(File.Exists(probe), $"the crash probe is not next to the tests: {probe}");
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in (string[])[probe, root, seed.ToString(CultureInfo.InvariantCulture), mode])
        {
            start.ArgumentList.Add(argument);
        }

        var acks = new List<Ack>();
        var stderr = new StringBuilder();
        using var ready = new ManualResetEventSlim();
        using var enoughAcks = new ManualResetEventSlim();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == "READY")
            {
                ready.Set();
            }
            else if (Ack.TryParse(e.Data, out var ack))
            {
                lock (acks)
                {
                    acks.Add(ack);
                    if (killAfterAcks > 0 && acks.Count >= killAfterAcks)
                    {
                        enoughAcks.Set();
                    }
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        Assert.True(process.Start(), "could not start the crash probe");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Assert.True(ready.Wait(Timeout), $"{context}: the probe did not print READY within {Timeout.TotalSeconds} s; stderr:\n{Snapshot(stderr)}");
            if (killAfterAcks > 0)
            {
                Assert.True(
                    enoughAcks.Wait(Timeout),
                    $"{context}: the probe did not acknowledge {killAfterAcks} updates within {Timeout.TotalSeconds} s; stderr:\n{Snapshot(stderr)}");
            }
            else
            {
                // Kill at a random moment: the probe runs for a minute, so this wait is the moment, not a poll.
                Assert.False(process.WaitForExit(killAfter), $"{context}: the probe exited by itself; stderr:\n{Snapshot(stderr)}");
            }
        }
        finally
        {
            process.Kill();
            Assert.True(process.WaitForExit(Timeout), $"{context}: the probe did not die");
            process.WaitForExit();
        }

        lock (acks)
        {
            return [.. acks];
        }
    }

    private static StoreRecoveryReport CheckStore(string root, List<Ack> acknowledged, string context)
    {
        using var store = UpdateStore.Open(new UpdateStoreOptions { RootDirectory = root });
        var report = store.Recovery;
        Assert.True(
            !report.HasCorruption,
            $"{context}: recovery found corruption:\n{string.Join('\n', report.Corruption.Select(static c => $"{c.Kind} {c.Path}: {c.Reason}"))}");
        Assert.Empty(Directory.EnumerateFiles(root, ".tmp-*", SearchOption.AllDirectories));

        foreach (var ack in acknowledged)
        {
            var round = store.ReadRound(ack.TaskId, ack.Round);
            var stored = round.SingleOrDefault(u => Convert.ToHexStringLower(u.Entry.UpdateId.Span) == ack.UpdateIdHex);
            Assert.True(stored is not null, $"{context}: acknowledged update {ack.UpdateIdHex} of {ack.TaskId} round {ack.Round} is lost");
            Assert.Equal(ack.PayloadSha256Hex, Convert.ToHexStringLower(stored.Entry.PayloadSha256.Span));
            Assert.Equal(StoredUpdateState.Intact, stored.State);
            var path = store.GetPayloadPath(ack.TaskId, ack.Round, Convert.FromHexString(ack.UpdateIdHex));
            using var file = File.OpenRead(path);
            Assert.Equal(ack.PayloadSha256Hex, Convert.ToHexStringLower(SHA256.HashData(file)));
        }

        foreach (var (taskId, round) in store.EnumerateRounds())
        {
            var sequences = store.ReadRound(taskId, round).Select(static u => u.Entry.Sequence).ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(static s => (ulong)s), sequences);
        }

        return report;
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private sealed record Ack(string TaskId, ulong Round, string UpdateIdHex, string PayloadSha256Hex)
    {
        public static bool TryParse(string? line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Ack? ack)
        {
            ack = null;
            var parts = line?.Split(' ');
            if (parts is not ["ACK", var taskId, var round, var updateId, var sha] || updateId.Length != 64 || sha.Length != 64
                || !ulong.TryParse(round, NumberStyles.None, CultureInfo.InvariantCulture, out var r))
            {
                return false;
            }

            ack = new Ack(taskId, r, updateId, sha);
            return true;
        }
    }
}
