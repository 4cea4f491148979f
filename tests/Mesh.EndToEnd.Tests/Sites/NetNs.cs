using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Mesh.EndToEnd.Tests.Sites;

/// <summary>
/// Network namespaces for the sites suite: runs sites.sh, and opens client sockets inside a namespace
/// (a socket belongs to the namespace it was created in, whatever thread uses it afterwards).
/// </summary>
public static partial class NetNs
{
    public static string Script => Path.Combine(AppContext.BaseDirectory, "Sites", "sites.sh");

    private static readonly Lazy<string?> Unavailable = new(Probe);

    /// <summary>Null if namespaces can be made here; otherwise why not (the suite is skipped with it).</summary>
    public static string? WhyUnavailable => Unavailable.Value;

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (geteuid() != 0) return "network namespaces need root (CI runs as root; run ./test.sh as root to include this suite)";
        foreach (var tool in new[] { "ip", "iptables" })
            if (!new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Any(d => File.Exists(Path.Combine(d, tool))))
                return $"'{tool}' is not installed (./test.sh installs it with apt-get when run as root)";
        var name = $"mprobe{Environment.ProcessId}";
        var (code, output) = Run("ip", "netns", "add", name);
        Run("ip", "netns", "del", name);
        return code == 0 ? null : $"cannot create a network namespace here: {output.Trim()}";
    }

    /// <summary>Runs sites.sh with <paramref name="args"/>; throws with its output if it fails.</summary>
    public static void Sites(params string[] args)
    {
        var (code, output) = Run("bash", [Script, .. args]);
        if (code != 0) throw new InvalidOperationException($"sites.sh {string.Join(' ', args)} failed ({code}): {output}");
    }

    public static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output.Result + error);
    }

    /// <summary>Connects to <paramref name="target"/> from inside namespace <paramref name="ns"/>, as an app at that site would.</summary>
    public static async Task<Socket> ConnectAsync(string ns, IPEndPoint target, CancellationToken ct = default)
    {
        var s = CreateSocketIn(ns);
        try
        {
            await s.ConnectAsync(target, ct);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An HTTP client for a REST API on <paramref name="port"/> of namespace <paramref name="ns"/>'s loopback, as a
    /// script on that host would call it: every connection is opened inside that namespace.
    /// </summary>
    public static HttpClient Http(string ns, int port, string token)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) => new NetworkStream(await ConnectAsync(ns, new IPEndPoint(IPAddress.Loopback, port), ct), ownsSocket: true),
        };
        var http = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>A listening socket inside namespace <paramref name="ns"/>: a service at that site that the test itself runs.</summary>
    public static Socket Listen(string ns, IPEndPoint at, int backlog = 128)
    {
        var s = CreateSocketIn(ns);
        try
        {
            s.Bind(at);
            s.Listen(backlog);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>setns(2) changes the calling thread only: a short-lived thread enters, creates the socket, and goes back.</summary>
    private static Socket CreateSocketIn(string ns)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            var home = open("/proc/self/ns/net", 0);
            var target = open($"/var/run/netns/{ns}", 0);
            try
            {
                if (home < 0 || target < 0 || setns(target, CloneNewNet) != 0)
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), $"cannot enter network namespace {ns}");
                try { socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }; }
                finally { setns(home, CloneNewNet); }
            }
            catch (Exception e) { error = e; }
            finally
            {
                if (target >= 0) close(target);
                if (home >= 0) close(home);
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw error!;
    }

    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}

/// <summary>A test of the sites suite: skipped, with the reason, where network namespaces cannot be made.</summary>
public sealed class SitesFactAttribute : FactAttribute
{
    public SitesFactAttribute()
    {
        if (NetNs.WhyUnavailable is { } why) Skip = why;
    }
}
