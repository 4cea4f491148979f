using System.Net;
using System.Net.Sockets;

namespace Mesh.Tests.Shared;

/// <summary>
/// Ports for the gateways a test starts. Not bind(0): the OS picks those from its ephemeral range
/// (net.ipv4.ip_local_port_range), where any outbound connection (a link dial, an HTTP client) can take the
/// port as its local end before the gateway under test binds it, seen in CI as an entry's "cannot listen:
/// AddressAlreadyInUse". These come from just below that range, in turn from a point that differs per test
/// process, and each is checked free when handed out.
/// </summary>
public static class FreePorts
{
    private static readonly (int First, int Count) Range = OutsideEphemeral();
    private static long _next = Environment.ProcessId * 97L;

    public static int Next()
    {
        for (var tried = 0; tried < Range.Count; tried++)
        {
            var port = Range.First + (int)(Interlocked.Increment(ref _next) % Range.Count);
            if (IsFree(port)) return port;
        }
        throw new InvalidOperationException($"no free port in {Range.First}-{Range.First + Range.Count - 1}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var any = new TcpListener(IPAddress.Any, port);   // conflicts with a listener on any address
            any.Start();
            return true;
        }
        catch (SocketException) { return false; }
    }

    private static (int, int) OutsideEphemeral()
    {
        var (low, high) = (32768, 60999);   // Linux's default
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            (low, high) = (int.Parse(parts[0]), int.Parse(parts[1]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
        return low - 1024 >= 8000 ? (Math.Max(1024, low - 12000), Math.Min(12000, low - 1024)) : (high + 1, 65535 - high);
    }
}
