using System.Diagnostics.CodeAnalysis;

namespace FedAgg.Core.Identity;

/// <summary>
/// Identity key files: the raw libp2p <c>PrivateKey</c> protobuf (the format go-libp2p and js-libp2p tooling use),
/// created owner-only (0600). Loading never invents a key: a missing or damaged file is a <see cref="KeyFileException"/>.
/// </summary>
public static class KeyFile
{
    /// <summary>Anything larger cannot be an Ed25519 key file, so it is refused before reading.</summary>
    public const int MaxFileLength = 4096;

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode ReadableByOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>
    /// Writes <paramref name="key"/> to a new file at <paramref name="path"/> with mode 0600 (through a temporary file in
    /// the same folder, flushed to disk, then renamed, so a crash never leaves a half-written key under that name).
    /// </summary>
    /// <exception cref="KeyFileException">The file exists (an identity is never overwritten) or cannot be written.</exception>
    public static void Write(string path, Ed25519PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var encoded = key.ToProtobuf();
        try
        {
            WriteSecret(path, encoded, "an identity key");
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(encoded);
        }
    }

    /// <summary>
    /// Writes secret bytes (any key file's content) to a new owner-only (0600) file: through a temporary file in the
    /// same folder, flushed to disk, then renamed, so a crash never leaves a half-written key under that name.
    /// </summary>
    /// <param name="path">The file to create.</param>
    /// <param name="content">The bytes to write.</param>
    /// <param name="what">What the file holds, for the message when it already exists (e.g. "an identity key").</param>
    /// <exception cref="KeyFileException">The file exists (a key is never overwritten) or cannot be written.</exception>
    public static void WriteSecret(string path, ReadOnlySpan<byte> content, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fullPath = Path.GetFullPath(path);
        if (File.Exists(fullPath) || Directory.Exists(fullPath))
        {
            throw new KeyFileException($"{path} already exists; FedAgg never overwrites {what} (remove it first if you really mean to).");
        }

        var directory = Path.GetDirectoryName(fullPath)!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new KeyFileException($"Cannot write the key file {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Loads the Ed25519 identity in <paramref name="path"/>. <paramref name="warning"/> is set when the file can be read
    /// by the group or others (the caller should show it: the key still loads, as ssh would rather refuse but a shared
    /// research machine often has a lax umask).
    /// </summary>
    /// <exception cref="KeyFileException">The file is missing, unreadable, too large, or not an Ed25519 libp2p private key.</exception>
    public static Ed25519PrivateKey Load(string path, out string? warning)
    {
        var encoded = ReadSecret(path, MaxFileLength, $"Create one with: fedagg keygen --out {path}", out warning);
        try
        {
            return Ed25519PrivateKey.FromProtobuf(encoded);
        }
        catch (FormatException e)
        {
            throw new KeyFileException($"{path} is not a usable identity key: {e.Message}", e);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(encoded);
        }
    }

    /// <summary>
    /// Reads a key file's secret bytes (the caller zeroes them after use). <paramref name="warning"/> is set when the
    /// file can be read by the group or others.
    /// </summary>
    /// <param name="path">The key file.</param>
    /// <param name="maxLength">Larger files are refused before reading.</param>
    /// <param name="createHint">How to create the file, appended to the message when it is missing.</param>
    /// <param name="warning">A permissions warning to show, or null.</param>
    /// <exception cref="KeyFileException">The file is missing, unreadable or too large.</exception>
    public static byte[] ReadSecret(string path, int maxLength, string createHint, out string? warning)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        warning = null;
        if (!File.Exists(path))
        {
            throw new KeyFileException($"The key file {path} does not exist. {createHint}");
        }

        try
        {
            var length = new FileInfo(path).Length;
            if (length > maxLength)
            {
                throw new KeyFileException($"{path} is {length} bytes: too large to be a key file.");
            }

            var encoded = File.ReadAllBytes(path);
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ReadableByOthers) != 0)
            {
                warning = $"warning: the key file {path} is accessible by other users (mode {Convert.ToString((int)File.GetUnixFileMode(path), 8)}); run: chmod 600 {path}";
            }

            return encoded;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyFileException($"Cannot read the key file {path}: {e.Message}", e);
        }
    }

    /// <summary>Loads the key like <see cref="Load"/> and reports a failure as a message instead of an exception.</summary>
    public static bool TryLoad(string path, [NotNullWhen(true)] out Ed25519PrivateKey? key, out string? warning, [NotNullWhen(false)] out string? error)
    {
        try
        {
            key = Load(path, out warning);
            error = null;
            return true;
        }
        catch (KeyFileException e)
        {
            key = null;
            warning = null;
            error = e.Message;
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A key file is missing, unreadable or not an Ed25519 libp2p private key. Messages never contain key material.</summary>
public sealed class KeyFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KeyFileException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public KeyFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public KeyFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
