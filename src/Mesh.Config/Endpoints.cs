using System.Net;

namespace Mesh.Config;

public static class Endpoints
{
    /// <summary>"host:port" as written in configs and route tables -> an endpoint a socket can connect to.</summary>
    public static EndPoint Parse(string text)
    {
        var hp = HostPort.Parse(text);
        return IPAddress.TryParse(hp.Host, out var ip) ? new IPEndPoint(ip, hp.Port) : new DnsEndPoint(hp.Host, hp.Port);
    }
}
