using System.CommandLine;
using FedAgg.Core.Identity;

namespace FedAgg.Cli;

/// <summary>
/// <c>fedagg keygen --out FILE</c> creates an Ed25519 identity (owner-only key file) and prints its peer ID;
/// <c>fedagg keygen --show FILE</c> prints the peer ID of an existing key file.
/// </summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var output = new Option<FileInfo?>("--out") { Description = "Create a new identity key file here (mode 0600; never overwrites)", HelpName = "file" };
        var show = new Option<FileInfo?>("--show") { Description = "Print the peer ID of an existing key file", HelpName = "file" };
        var cid = new Option<bool>("--cid") { Description = "Also print the peer ID in its CIDv1 form (bafz…)" };
        var command = new Command("keygen", "Create an Ed25519 libp2p identity, or show the peer ID of one") { output, show, cid };
        command.Validators.Add(result =>
        {
            var hasOut = result.GetResult(output) is { Implicit: false };
            var hasShow = result.GetResult(show) is { Implicit: false };
            if (hasOut == hasShow)
            {
                result.AddError("give exactly one of --out FILE or --show FILE");
            }
        });

        command.SetAction(parse =>
        {
            var showCid = parse.GetValue(cid);
            try
            {
                if (parse.GetValue(output) is { } target)
                {
                    using var key = Ed25519PrivateKey.Generate();
                    KeyFile.Write(target.FullName, key);
                    Print(key.PeerId, showCid);
                    return 0;
                }

                var path = parse.GetValue(show)!.FullName;
                using var existing = KeyFile.Load(path, out var warning);
                if (warning is not null)
                {
                    Console.Error.WriteLine($"fedagg keygen: {warning}");
                }

                Print(existing.PeerId, showCid);
                return 0;
            }
            catch (KeyFileException e)
            {
                Console.Error.WriteLine($"fedagg keygen: error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static void Print(PeerId peerId, bool showCid)
    {
        Console.Out.WriteLine(peerId.ToString());
        if (showCid)
        {
            Console.Out.WriteLine(peerId.ToCidString());
        }
    }
}
