using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Mesh.Transport.Security;

namespace Mesh.Gateway.Tests;

/// <summary>What the gateway specs share: a throwaway identity, and a client socket to an entry.</summary>
internal static class TestGateway
{
    public static MeshIdentity Identity(string name)
    {
        var (ca, caKey) = MeshPki.CreateCa("test", TimeSpan.FromDays(1));
        var (cert, key) = MeshPki.Issue(name, GatewayRole.Core, ca, caKey, TimeSpan.FromDays(1));
        return MeshIdentity.FromCertificate(cert.CopyWithPrivateKey(key), ca);
    }

    public static async Task<Socket> Connect(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        return s;
    }
}
