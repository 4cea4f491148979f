using System.Net;
using System.Net.Sockets;

namespace Mesh.Transport.Tests;

public static class TestSockets
{
    /// <summary>Two connected TCP sockets on loopback: the connecting one first.</summary>
    public static async Task<(Socket, Socket)> SocketPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepted = listener.AcceptAsync();
        await connecting.ConnectAsync(listener.LocalEndPoint!);
        return (connecting, await accepted);
    }
}
