using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FedAgg.Aggregation.Tests.Support;

/// <summary>
/// Peak resident anonymous memory (Linux: RssAnon in /proc/self/status) while something runs. Unlike
/// GC.GetTotalAllocatedBytes it sees native buffers (NativeMemory.AlignedAlloc), and unlike the plain RSS it leaves
/// out the pages of memory-mapped input files. A background thread samples it in a loop, reading into a fixed buffer
/// so that the sampling itself does not allocate.
/// </summary>
public sealed partial class AnonymousMemorySampler : IDisposable
{
    private const string StatusPath = "/proc/self/status";
    private static readonly byte[] Key = "RssAnon:"u8.ToArray();

    private readonly SafeFileHandle _handle;
    private readonly byte[] _buffer = new byte[32 * 1024];
    private readonly Thread _thread;
    private readonly long _baseline;
    private long _peak;
    private volatile bool _stop;

    private AnonymousMemorySampler()
    {
        _handle = File.OpenHandle(StatusPath);
        _baseline = Read();
        _peak = _baseline;
        _thread = new Thread(Loop) { IsBackground = true, Name = "RssAnon sampler" };
        _thread.Start();
    }

    public static bool IsSupported => OperatingSystem.IsLinux() && File.Exists(StatusPath);

    /// <summary>Returns freed native memory to the OS first (glibc keeps it otherwise), so the baseline is honest.</summary>
    public static AnonymousMemorySampler Start()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        _ = MallocTrim(0);
        return new AnonymousMemorySampler();
    }

    /// <summary>Stops sampling; the highest RssAnon seen minus the one at start, in bytes.</summary>
    public long StopAndGetPeakIncrease()
    {
        _stop = true;
        _thread.Join();
        _peak = Math.Max(_peak, Read());
        return _peak - _baseline;
    }

    public void Dispose()
    {
        if (!_stop)
        {
            _stop = true;
            _thread.Join();
        }

        _handle.Dispose();
    }

    private void Loop()
    {
        while (!_stop)
        {
            var v = Read();
            if (v > _peak)
            {
                _peak = v;
            }

            Thread.Yield();
        }
    }

    private long Read()
    {
        var length = RandomAccess.Read(_handle, _buffer, 0);
        var text = _buffer.AsSpan(0, length);
        var at = text.IndexOf(Key);
        if (at < 0)
        {
            throw new InvalidOperationException("no RssAnon line in " + StatusPath);
        }

        long kb = 0;
        foreach (var b in text[(at + Key.Length)..])
        {
            if (b is >= (byte)'0' and <= (byte)'9')
            {
                kb = (kb * 10) + (b - '0');
            }
            else if (b == (byte)'\n')
            {
                break;
            }
        }

        return kb * 1024;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
