using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Mesh.Bench.Scale;

/// <summary>
/// What a piece of work took: wall time (a Stopwatch) and the CPU time of the thread that ran it (GC included: the
/// workstation GC collects on the allocating thread). On 2 cores shared with other work, the wall time grows with
/// the load; the CPU time much less.
/// </summary>
public readonly record struct Cost(double WallMs, double CpuMs)
{
    public static Cost operator *(Cost c, double factor) => new(c.WallMs * factor, c.CpuMs * factor);
    public static Cost operator +(Cost a, Cost b) => new(a.WallMs + b.WallMs, a.CpuMs + b.CpuMs);
}

/// <summary>Timing around single-threaded code: the median of several runs, and the managed heap a result holds.</summary>
public static class Timing
{
    /// <summary>
    /// The median wall and CPU times of <paramref name="runs"/> runs of <paramref name="work"/>, each after an untimed
    /// <paramref name="setup"/>; one untimed run first when <paramref name="warmUp"/>.
    /// </summary>
    public static Cost Median(int runs, Action work, Action? setup = null, bool warmUp = true)
    {
        if (warmUp) { setup?.Invoke(); work(); }
        var wall = new double[runs];
        var cpu = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            setup?.Invoke();
            (wall[i], cpu[i]) = Once(work);
        }
        return new(Median(wall), Median(cpu));
    }

    /// <summary>One timed run.</summary>
    public static Cost Once(Action work)
    {
        var cpu = ThreadCpuMs();
        var sw = Stopwatch.StartNew();
        work();
        return new(sw.Elapsed.TotalMilliseconds, ThreadCpuMs() - cpu);
    }

    private static double Median(double[] times)
    {
        Array.Sort(times);
        var n = times.Length;
        return n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    }

    /// <summary>How much more managed heap is live, after forced collections, while <paramref name="build"/>'s result is held.</summary>
    public static (T Result, long Bytes) Retained<T>(Func<T> build)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var result = build();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(result);
        return (result, after - before);
    }

    /// <summary>The load average over the last minute (/proc/loadavg), for the figures' context; "?" elsewhere.</summary>
    public static string Load() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    /// <summary>The calling thread's CPU time (Linux: CLOCK_THREAD_CPUTIME_ID); NaN where that clock is missing.</summary>
    private static double ThreadCpuMs()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        return clock_gettime(ClockThreadCpuTime, out var t) == 0 ? t.Seconds * 1000.0 + t.Nanoseconds / 1e6 : double.NaN;
    }

    private const int ClockThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clock, out TimeSpec time);
}
