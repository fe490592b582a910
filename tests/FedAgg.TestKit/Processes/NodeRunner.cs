using System.Diagnostics;
using System.Text;

namespace FedAgg.TestKit.Processes;

/// <summary>
/// Runs ES-module scripts with <c>node</c> in the repository root, so <c>import … from '@openzeppelin/merkle-tree'</c>
/// resolves from the root's node_modules (installed by <c>npm ci</c>), the independent implementation the Merkle
/// tests cross-check against. Failures throw <see cref="InvalidOperationException"/> with everything needed to fix
/// them (the test fails).
/// </summary>
public static class NodeRunner
{
    public const string Executable = "node";

    private const string MerkleTreePackage = "@openzeppelin/merkle-tree";
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);
    private static readonly SemaphoreSlim PackageCheckLock = new(1, 1);
    private static bool _packagesChecked;

    /// <summary>The folder holding FedAgg.sln, found by walking up from the test binaries, the working directory or this source file.</summary>
    public static string RepositoryRoot => TestKit.RepositoryRoot.Path;

    /// <summary>
    /// Starts <c>node</c> with <paramref name="start"/> (its file name is taken to be <see cref="Executable"/>) for the
    /// script <paramref name="scriptPath"/>, without the caller's <c>NODE_OPTIONS</c> and <c>DEBUG</c> (they change what
    /// node prints); a missing node fails with how to install it.
    /// </summary>
    public static Process StartScript(ProcessStartInfo start, string scriptPath)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.Environment.Remove("NODE_OPTIONS");
        start.Environment.Remove("DEBUG");
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Executable} {scriptPath}.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException(
                $"`{Executable}` could not be started ({exception.Message}): install Node.js 20+ and run `npm ci` in {RepositoryRoot} (./test.sh does this).",
                exception);
        }
    }

    /// <summary>Fails the test, saying how to fix it, unless node runs and node_modules holds @openzeppelin/merkle-tree.</summary>
    public static async Task RequireMerkleTreeAsync()
    {
        await PackageCheckLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_packagesChecked)
            {
                return;
            }

            var package = Path.Combine(RepositoryRoot, "node_modules", MerkleTreePackage, "package.json");
            if (!File.Exists(package))
            {
                throw new InvalidOperationException(
                    $"{package} is missing: run `npm ci` in {RepositoryRoot} (./test.sh does this) to install {MerkleTreePackage} for the Merkle cross-checks.");
            }

            (int ExitCode, string StandardOutput, string StandardError) result;
            try
            {
                result = await RunRawAsync("process.stdout.write(process.version)", null, DefaultTimeout);
            }
            catch (System.ComponentModel.Win32Exception exception)
            {
                throw new InvalidOperationException(
                    $"`{Executable}` could not be started ({exception.Message}): install Node.js and run `npm ci` in {RepositoryRoot} (./test.sh does this) for the Merkle cross-checks.",
                    exception);
            }

            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"`{Executable}` does not run (exit {result.ExitCode}): install Node.js and run `npm ci` in {RepositoryRoot} (./test.sh does this).\nstderr:\n{result.StandardError}");
            }

            _packagesChecked = true;
        }
        finally
        {
            PackageCheckLock.Release();
        }
    }

    /// <summary>Synchronous <see cref="RunModuleAsync"/> for tests that are not async.</summary>
    public static string RunModule(string script, string? standardInput = null) => RunModuleAsync(script, standardInput).GetAwaiter().GetResult();

    /// <summary>
    /// Runs <paramref name="script"/> as an ES module in the repository root with @openzeppelin/merkle-tree available,
    /// writing <paramref name="standardInput"/> to its stdin (read it with <c>fs.readFileSync(0, 'utf8')</c>); fails the
    /// test with stderr on a non-zero exit or timeout. Returns stdout.
    /// </summary>
    public static async Task<string> RunModuleAsync(string script, string? standardInput = null)
    {
        await RequireMerkleTreeAsync();
        var result = await RunRawAsync(script, standardInput, DefaultTimeout);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Executable} exited with {result.ExitCode}.\nscript:\n{script}\nstderr:\n{result.StandardError}\nstdout:\n{Shorten(result.StandardOutput)}");
        }

        return result.StandardOutput;
    }

    private static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunRawAsync(
        string script, string? standardInput, TimeSpan timeout)
    {
        // The input goes through a file that the shell puts on node's stdin: a pipe from this process can be
        // non-blocking and still empty when the script calls fs.readFileSync(0), which then fails with EAGAIN (it did,
        // under load). A regular file always reads to the end.
        var inputFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(inputFile, standardInput ?? string.Empty, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

            // Module resolution of -e input starts at the working directory, hence the repository root.
            var start = new ProcessStartInfo("/bin/sh")
            {
                WorkingDirectory = RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"exec {Executable} --input-type=module -e \"$1\" < \"$2\"");
            start.ArgumentList.Add("sh");
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(inputFile);
            start.Environment.Remove("NODE_OPTIONS");

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Executable}.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cancellation = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                throw new InvalidOperationException($"{Executable} did not finish within {timeout.TotalSeconds} s.\nscript:\n{script}\nstderr:\n{await stderr}");
            }

            if (process.ExitCode == 127)
            {
                throw new System.ComponentModel.Win32Exception($"`{Executable}` was not found on PATH");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            File.Delete(inputFile);
        }
    }

    private static string Shorten(string text) => text.Length <= 4000 ? text : $"{text[..4000]}… ({text.Length} characters)";
}
