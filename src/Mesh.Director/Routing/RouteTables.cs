using Mesh.Config;
using Mesh.Contracts.Routing;

namespace Mesh.Director.Routing;

/// <summary>Pure: a route map and its revision -> the table each gateway receives.</summary>
public static class RouteTables
{
    /// <param name="links">the links paths may use (WorkingLinks); null: every link the config promises</param>
    public static RouteTable For(RouteMap map, long version, string gateway, IReadOnlyList<LinkEdge>? links = null)
    {
        var gateways = map.Gateways.Values
            .Select(g => new GatewayInfo(g.Name, g.Kind == GatewayKind.Core, g.Links.Select(l => l.ToString()).ToArray()))
            .ToArray();
        var services = map.Services.Values.Select(s => new ServiceInfo(s.Name, s.Gateway)).ToArray();
        var entries = map.EntriesOn(gateway)
            .Select(e => new ListenEntry(e.Listen.ToString(), e.Service, map.Services[e.Service].Gateway)
            {
                Allow = map.AllowedClients(e).Select(n => n.ToString()).ToArray(), MaxConnections = e.MaxConnections,
            })
            .ToArray();
        var owned = map.ServicesOwnedBy(gateway)
            .Select(s => new OwnedService(s.Name, s.Target.ToString(), ToSpec(s.Check)))
            .ToArray();
        var flows = new FlowSettings(map.Settings.PoolSize, map.Settings.FlowIdleTimeout, map.Settings.DialTimeout);
        var hops = Paths.Costs(gateway, links ?? WorkingLinks.Assumed(Members(map)), g => map.Gateways.TryGetValue(g, out var c) && c.Kind == GatewayKind.Core)
            .OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => new NextHop(h.Key, h.Value.Via) { Cost = h.Value.Cost }).ToArray();
        var access = map.ServicesOwnedBy(gateway).Select(s => new ServiceAccess(s.Name, map.AllowedOrigins(s))).ToArray();
        return new RouteTable(version, map.MeshName, gateway, map.Gateways.ContainsKey(gateway), entries, owned, gateways, services, flows, hops)
        {
            Revoked = map.Settings.Revoked, Access = access,
        };
    }

    /// <summary>Every gateway the config declares, whether it is a core gateway, and whether others can dial it.</summary>
    public static IEnumerable<Member> Members(RouteMap map) =>
        map.Gateways.Values.Select(g => new Member(g.Name, g.Kind == GatewayKind.Core, g.AcceptsLinks));

    private static CheckSpec ToSpec(HealthCheck c) =>
        new(c.Kind.ToString().ToLowerInvariant(), c.Interval, c.Timeout, c.Rise, c.Fall, c.Path, c.PasswordEnv, c.User);
}
