using System.Runtime.InteropServices;

namespace FedAgg.Storage;

/// <summary>
/// fsync for files and directories. A rename or a new file is durable only after its directory is flushed; .NET cannot
/// open a directory as a file handle on Unix, so the directory is opened and flushed through libc.
/// </summary>
internal static partial class DurableIO
{
    private const string LibC = "libc";

    /// <summary>Flushes the directory's entries (creations, renames, deletions) to disk; a no-op on Windows, where NTFS journals them.</summary>
    public static void FlushDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Open(path, DirectoryOpenFlags());
        if (fd < 0)
        {
            throw Error("open", path, Marshal.GetLastPInvokeError());
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw Error("fsync", path, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Flushes every dirty page and directory entry of the file system that holds <paramref name="path"/> (Linux
    /// <c>syncfs</c>; <c>sync</c> on other Unix systems; a no-op on Windows). Recovery calls it once, because a process
    /// that crashed (while the machine did not) leaves writes in the page cache that look durable but are not.
    /// </summary>
    public static void FlushFileSystem(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (!OperatingSystem.IsLinux())
        {
            Sync();
            return;
        }

        var fd = Open(path, DirectoryOpenFlags());
        if (fd < 0)
        {
            throw Error("open", path, Marshal.GetLastPInvokeError());
        }

        try
        {
            if (Syncfs(fd) != 0)
            {
                throw Error("syncfs", path, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Writes a small file atomically and durably: a temporary sibling, fsync, rename, directory fsync.</summary>
    public static void WriteFileAtomically(string path, ReadOnlySpan<byte> contents)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(directory, "." + Path.GetFileName(path) + ".tmp");
        using (var handle = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, contents, 0);
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(temporary, path, overwrite: true);
        FlushDirectory(directory);
    }

    private static int DirectoryOpenFlags()
    {
        // O_RDONLY is 0 everywhere; O_DIRECTORY and O_CLOEXEC differ between kernels and architectures.
        if (OperatingSystem.IsLinux())
        {
            var directory = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;
            return directory | 0x80000;
        }

        return OperatingSystem.IsMacOS() ? 0x100000 | 0x1000000 : 0;
    }

    private static IOException Error(string call, string path, int errno) =>
        new($"{call}({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");

    [LibraryImport(LibC, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport(LibC, EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport(LibC, EntryPoint = "syncfs", SetLastError = true)]
    private static partial int Syncfs(int fd);

    [LibraryImport(LibC, EntryPoint = "sync")]
    private static partial void Sync();

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
