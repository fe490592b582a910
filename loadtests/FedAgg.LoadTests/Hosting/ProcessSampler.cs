using System.Globalization;

namespace FedAgg.LoadTests.Hosting;

/// <summary>One sample of one process (or of the whole machine, named <c>machine</c>).</summary>
/// <param name="At">Time since the run started.</param>
/// <param name="Process">The name the process was registered under.</param>
/// <param name="CpuCores">CPU used since the previous sample, in cores (1.0 = one core busy).</param>
/// <param name="CpuSeconds">CPU seconds used since sampling began.</param>
/// <param name="RssBytes">Resident memory (VmRSS); 0 for the machine.</param>
/// <param name="Threads">Threads; 0 for the machine.</param>
/// <param name="Handles">Open file descriptors; 0 for the machine.</param>
public sealed record ResourceSample(TimeSpan At, string Process, double CpuCores, double CpuSeconds, long RssBytes, int Threads, int Handles);

/// <summary>
/// Samples processes from Linux's /proc: CPU (utime + stime of /proc/PID/stat), VmRSS and Threads (/proc/PID/status),
/// open descriptors (/proc/PID/fd), and the machine's busy CPU (/proc/stat), so a report can split the cores between the
/// runner, the server and everything else. Elsewhere it records nothing. Thread-safe; keeps at most
/// <see cref="MaxSamples"/> samples (then every other old one is dropped).
/// </summary>
public sealed class ProcessSampler
{
    /// <summary>The most samples kept.</summary>
    public const int MaxSamples = 20_000;

    /// <summary>Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100.0;

    private readonly Lock _lock = new();
    private readonly List<(string Name, int Pid)> _processes = [];
    private readonly Dictionary<string, (TimeSpan At, double Seconds, double First)> _last = new(StringComparer.Ordinal);
    private readonly List<ResourceSample> _samples = [];

    /// <summary>The machine's logical processors.</summary>
    public static int ProcessorCount => Environment.ProcessorCount;

    /// <summary>Samples so far, in time order.</summary>
    public IReadOnlyList<ResourceSample> Samples
    {
        get
        {
            lock (_lock)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>Starts sampling process <paramref name="pid"/> as <paramref name="name"/>.</summary>
    /// <param name="name">The name (e.g. <c>server</c>, <c>runner</c>).</param>
    /// <param name="pid">The process id.</param>
    public void Track(string name, int pid)
    {
        lock (_lock)
        {
            _processes.Add((name, pid));
        }
    }

    /// <summary>Takes one sample of every tracked process and of the machine.</summary>
    /// <param name="at">Time since the run started.</param>
    public void Sample(TimeSpan at)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        lock (_lock)
        {
            if (ReadMachineBusySeconds() is { } busy)
            {
                Add(at, "machine", busy, 0, 0, 0);
            }

            foreach (var (name, pid) in _processes)
            {
                if (ReadProcess(pid) is { } p)
                {
                    Add(at, name, p.CpuSeconds, p.Rss, p.Threads, p.Handles);
                }
            }

            if (_samples.Count > MaxSamples)
            {
                var kept = _samples.Where((_, i) => i >= _samples.Count / 2 || i % 2 == 0).ToList();
                _samples.Clear();
                _samples.AddRange(kept);
            }
        }
    }

    /// <summary>The samples of <paramref name="process"/>.</summary>
    /// <param name="process">The name.</param>
    /// <returns>Its samples in time order.</returns>
    public IReadOnlyList<ResourceSample> Of(string process)
    {
        lock (_lock)
        {
            return [.. _samples.Where(s => s.Process == process)];
        }
    }

    /// <summary>The 1, 5 and 15 minute load averages (/proc/loadavg), or null.</summary>
    /// <returns>The load averages as text.</returns>
    public static string? LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return parts.Length >= 3 ? $"{parts[0]} {parts[1]} {parts[2]}" : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void Add(TimeSpan at, string name, double cpuSeconds, long rss, int threads, int handles)
    {
        double cores = 0;
        double first = cpuSeconds;
        if (_last.TryGetValue(name, out var last))
        {
            first = last.First;
            var wall = (at - last.At).TotalSeconds;
            cores = wall > 0 ? Math.Max(0, (cpuSeconds - last.Seconds) / wall) : 0;
        }

        _last[name] = (at, cpuSeconds, first);
        _samples.Add(new ResourceSample(at, name, cores, cpuSeconds - first, rss, threads, handles));
    }

    private static double? ReadMachineBusySeconds()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            var line = reader.ReadLine();
            if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                return null;
            }

            // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            double busy = 0;
            for (var i = 1; i < Math.Min(fields.Length, 9); i++)
            {
                if (i is 4 or 5)
                {
                    continue;
                }

                busy += double.Parse(fields[i], CultureInfo.InvariantCulture);
            }

            return busy / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static (double CpuSeconds, long Rss, int Threads, int Handles)? ReadProcess(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

            // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based), i.e. indexes 11 and 12 here.
            var cpu = (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            long rss = 0;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
                }
            }

            var handles = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count();
            return (cpu, rss, threads, handles);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
