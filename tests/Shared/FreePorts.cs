using System.Net;
using System.Net.Sockets;

namespace Mesh.Tests.Shared;

public static class FreePorts
{
    /// <summary>A loopback port free right now (the OS picks it; a small race with other processes remains).</summary>
    public static int Next()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
