using System.Net.Sockets;

namespace Mesh.Transport.Links;

/// <summary>Socket options for links and flows.</summary>
public static class SocketTuning
{
    /// <summary>Links: no Nagle (small frames, interactive flows), and TCP keepalive to find dead NAT mappings.</summary>
    public static void ForLink(Socket s)
    {
        s.NoDelay = true;
        s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 10);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 3);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
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
