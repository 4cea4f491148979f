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

    public static bool CanCount => Directory.Exists(OpenDescriptors);

    private const string OpenDescriptors = "/proc/self/fd";

    [LibraryImport("libc", EntryPoint = "opendir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial IntPtr OpenDir(string path);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial IntPtr ReadDir(IntPtr directory);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDir(IntPtr directory);

    /// <summary>
    /// The entries of /proc/self/fd, or null when it cannot be opened (out of descriptors). readdir only: .NET's
    /// enumeration stats every entry (each one a symlink, to learn whether it points to a directory), which cost
    /// 7% of a gateway's CPU under churn (docs/PERFORMANCE.md).
    /// </summary>
    public static int? CountOpen()
    {
        var directory = OpenDir(OpenDescriptors);
        if (directory == IntPtr.Zero) return null;
        try
        {
            var entries = 0;
            while (ReadDir(directory) != IntPtr.Zero) entries++;
            return entries - 3;   // ".", ".." and the listing's own descriptor
        }
        finally { CloseDir(directory); }
    }

    /// <summary>
    /// The descriptors the process has open, counted at most every 100 ms (a directory listing), plus two for each
    /// client admitted since the count: "low" once fewer than the reserve would be left. What the gateway's own
    /// work holds grows with its peers and link pools (a core gateway of a small mesh holds ~200 at rest), so a
    /// count of client flows alone cannot keep the reserve.
    /// </summary>
    public sealed class Watch(ulong limit)
    {
        private readonly long _refuseAbove = (long)Math.Min(limit, int.MaxValue) - Reserve(limit);
        private readonly Lock _gate = new();
        private long _countedAt = long.MinValue / 2, _estimate;

        /// <summary>Asked once per client about to be admitted: true refuses it; false counts its two descriptors.</summary>
        public bool Low()
        {
            lock (_gate)
            {
                var now = Environment.TickCount64;
                if (now - _countedAt >= 100)
                {
                    _countedAt = now;
                    if (CountOpen() is not { } open) return true;   // cannot even list them: out of descriptors
                    _estimate = open;
                }
                if (_estimate + 2 > _refuseAbove) return true;
                _estimate += 2;
                return false;
            }
        }
    }

    /// <summary>Client flows served at once: what the reserve leaves, two descriptors a flow.</summary>
    public static int MaxClientFlows(ulong limit) => limit > int.MaxValue ? int.MaxValue / 2 : (int)(((int)limit - Reserve(limit)) / 2);
}
