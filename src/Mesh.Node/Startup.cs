using System.Net;
using System.Net.Sockets;
using Mesh.Config;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Naming;
using Mesh.Transport.Links;
using Mesh.Transport.Security;

namespace Mesh.Node;

/// <summary>A check at start failed: one line naming the flag, and the process exits 2.</summary>
public sealed class StartupException(string message) : Exception(message);

/// <summary>
/// What a gateway checks before it starts anything: its certificate fits its role, every port it will bind
/// is free (ports are never shared: a taken one is an error naming the flag), and an edge's --join
/// addresses are link ports, not cluster ports.
/// </summary>
public static class Startup
{
    /// <summary>A core gateway (--listen) needs a core certificate: the cluster admits no other.</summary>
    public static void CheckRole(NodeOptions o, MeshIdentity identity)
    {
        if (o.IsCore && identity.Role != GatewayRole.Core)
            throw new StartupException($"--listen makes this a core gateway, but --cert {o.Cert} is an edge certificate (role edge; certificates "
                + $"issued before roles count as edge). Issue a core certificate: mesh cert issue {o.Name} --role core --ca CA_DIR --out DIR; "
                + "or, for an edge that accepts links from other edges, add --edge");
    }

    /// <summary>Binds every --listen address exclusively (the link ports stay bound: the gateway serves them).</summary>
    public static IReadOnlyList<LinkServer> BindLinkPorts(NodeOptions o)
    {
        var servers = new List<LinkServer>();
        try
        {
            foreach (var listen in o.Listen) servers.Add(Bind("--listen", listen, a => new LinkServer(a)));
            return servers;
        }
        catch
        {
            foreach (var s in servers) s.Dispose();
            throw;
        }
    }

    /// <summary>Starts the DNS server (--dns) on UDP and TCP: a taken port is an error naming the flag.</summary>
    public static MeshDnsServer? StartDns(NodeOptions o, RouteView routes) =>
        o.Dns is null ? null : Bind("--dns", o.Dns, a => new MeshDnsServer(a, routes));

    /// <summary>Checks that <paramref name="address"/> can be bound now (the cluster and API ports, which Akka and Kestrel bind).</summary>
    public static void CheckFree(string flag, HostPort address) => Bind(flag, address, a =>
    {
        using var probe = new Socket(a.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(a);
        probe.Listen(1);
        return 0;
    });

    private static T Bind<T>(string flag, HostPort address, Func<IPEndPoint, T> bind)
    {
        IPEndPoint endpoint;
        try { endpoint = new IPEndPoint(IPAddress.TryParse(address.Host, out var ip) ? ip : Dns.GetHostAddresses(address.Host)[0], address.Port); }
        catch (SocketException e) { throw new StartupException($"{flag} {address}: cannot resolve '{address.Host}': {e.SocketErrorCode}"); }
        try { return bind(endpoint); }
        catch (SocketException e)
        {
            throw new StartupException(e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => $"{flag} {address}: the port is in use (another process holds it; ports are never shared)",
                SocketError.AddressNotAvailable => $"{flag} {address}: this host has no such address (behind a 1:1 NAT, bind the private address "
                                                   + "or 0.0.0.0 and give the public one with --advertise)",
                SocketError.AccessDenied => $"{flag} {address}: permission denied (ports below 1024 need privileges)",
                _ => $"{flag} {address}: cannot bind: {e.SocketErrorCode}",
            });
        }
    }

    /// <summary>
    /// An edge's --join names core gateways' link ports. Each is tried once, briefly: one that answers with
    /// an older TLS (Akka remoting's cluster port) is a mistake in the command line, said at once; one that
    /// does not answer is not (the network may be down: the edge keeps trying).
    /// </summary>
    public static async Task CheckEdgeJoinAsync(NodeOptions o, MeshIdentity identity)
    {
        if (o.IsCore) return;
        foreach (var join in o.Join)
        {
            try
            {
                // a pooled connection, not a control channel: the core sees one idle connection come and go, nothing to log
                var link = await LinkHandshake.DialAsync(identity, null, Endpoints.Parse(join.ToString()), TimeSpan.FromSeconds(2), default);
                await link.DisposeAsync();
            }
            catch (LinkException e) when (e.Message.Contains("cluster port", StringComparison.Ordinal))
            {
                throw new StartupException($"--join {join} is a cluster port (Akka remoting), not a link port: an edge joins through the "
                    + "core gateways' link addresses, the HOST:PORT of their --listen (e.g. --join core1.example:7443)");
            }
            catch (LinkException) { }   // down, or refusing for now: the edge's control channel keeps trying and says why
        }
    }
}
