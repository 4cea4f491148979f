using System.Runtime.InteropServices;

namespace Mesh.Node;

/// <summary>
/// The process's file descriptors: the soft RLIMIT_NOFILE is raised to the hard limit at start (a default of
/// 1024 caps a gateway at ~500 flows), and a share is kept in reserve for the gateway's own work (links,
/// the control plane, the director's store, the API, config reads): client flows across all entries may
/// use the rest, two descriptors each.
/// </summary>
public static partial class FileDescriptors
{
    private const int RlimitNofile = 7;   // Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Max;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    /// <summary>Raises the soft limit to the hard one; returns (before, after), or null where there is no such limit.</summary>
    public static (ulong Before, ulong After)? RaiseToHardLimit()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            if (GetRLimit(RlimitNofile, out var limit) != 0) return null;
            var before = limit.Current;
            if (limit.Current < limit.Max)
            {
                var raised = limit with { Current = limit.Max };
                if (SetRLimit(RlimitNofile, raised) == 0) limit = raised;
            }
            return (before, limit.Current);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
    }

    /// <summary>Descriptors kept for the gateway's own work out of <paramref name="limit"/>: a tenth, at least 128.</summary>
    public static int Reserve(ulong limit) => (int)Math.Min(limit / 2, Math.Max(128, limit / 10));

    /// <summary>Client flows served at once: what the reserve leaves, two descriptors a flow.</summary>
    public static int MaxClientFlows(ulong limit) => limit > int.MaxValue ? int.MaxValue / 2 : (int)(((int)limit - Reserve(limit)) / 2);
}
