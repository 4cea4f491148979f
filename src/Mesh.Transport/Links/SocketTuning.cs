using System.Net.Sockets;

namespace Mesh.Transport.Links;

/// <summary>Socket options for links and flows.</summary>
public static class SocketTuning
{
    /// <summary>
    /// How long sent bytes may stay unacknowledged on a link before the kernel gives the connection up
    /// (TCP_USER_TIMEOUT, Linux). Keepalive finds a dead path only while nothing is in flight; a flow whose
    /// client writes into a path that went dead (a LAN link blocked, a NAT router gone) otherwise retransmits
    /// for ~15 minutes while its app hangs. Then the flow is reset, as any broken flow.
    /// </summary>
    public static readonly TimeSpan UnacknowledgedFor = TimeSpan.FromSeconds(20);

    private const int TcpUserTimeout = 18;   // linux/tcp.h

    /// <summary>Links: no Nagle (small frames, interactive flows), TCP keepalive to find dead NAT mappings, and a bound on unacknowledged bytes.</summary>
    public static void ForLink(Socket s)
    {
        s.NoDelay = true;
        s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 10);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 3);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        if (OperatingSystem.IsLinux())
            s.SetRawSocketOption((int)SocketOptionLevel.Tcp, TcpUserTimeout, BitConverter.GetBytes((int)UnacknowledgedFor.TotalMilliseconds));
    }

    public static void ForFlow(Socket s) => s.NoDelay = true;

    /// <summary>
    /// Closes with RST, not FIN, at once: a broken flow must not look like a clean end to the program on this
    /// socket. The socket is closed here, before any NetworkStream over it is disposed: disposing a
    /// NetworkStream that owns its socket shuts it down first (a FIN), and the client would read a clean end.
    /// </summary>
    public static void Reset(Socket s)
    {
        try
        {
            s.LingerState = new LingerOption(true, 0);
            s.Close();
        }
        catch (ObjectDisposedException) { }
    }
}
