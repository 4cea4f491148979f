using Mesh.Config;
using Mesh.Contracts.Routing;

namespace Mesh.Director.Routing;

/// <summary>
/// Pure: a route map and the working links -> the table each gateway receives. Built once per map and set of
/// links (<see cref="Builder"/>): the lists every table shares are made once, and paths come from one
/// <see cref="PathIndex"/>. Each gateway gets what it uses (issue 19): a core gateway relays, so it gets every
/// gateway, service and next hop; so does an edge that accepts links (any declared gateway may dial it). Any
/// other edge gets its entries' services and their owners, the gateways it dials (core gateways, edges that
/// accept links), and next hops to its services' owners only: a table that does not grow with the mesh.
/// </summary>
public static class RouteTables
{
    /// <param name="links">the links paths may use (WorkingLinks); null: every link the config promises</param>
    public static RouteTable For(RouteMap map, long version, string gateway, IReadOnlyList<LinkEdge>? links = null) =>
        new Builder(map, links).For(version, gateway);

    /// <summary>Every gateway the config declares, whether it is a core gateway, and whether others can dial it.</summary>
    public static IEnumerable<Member> Members(RouteMap map) =>
        map.Gateways.Values.Select(g => new Member(g.Name, g.Kind == GatewayKind.Core, g.AcceptsLinks));

    /// <summary>The tables of one map and one set of working links; build it again when either changes.</summary>
    public sealed class Builder
    {
        private readonly RouteMap _map;
        private readonly GatewayInfo[] _gateways;
        private readonly Dictionary<string, GatewayInfo> _gatewayByName;
        private readonly ServiceInfo[] _services;
        private readonly Dictionary<string, ServiceInfo> _serviceByName;
        private readonly GatewayInfo[] _dialed;
        private readonly FlowSettings _flows;
        private readonly PathIndex _paths;
        /// <summary>The map's entries and owned services by gateway, and each service's origins: looked up once, not scanned per table.</summary>
        private readonly ILookup<string, EntryConfig> _entriesOn;
        private readonly ILookup<string, ServiceConfig> _ownedBy;
        private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _origins;

        public Builder(RouteMap map, IReadOnlyList<LinkEdge>? links = null)
        {
            _map = map;
            _gateways = map.Gateways.Values.Select(g => new GatewayInfo(g.Name, g.Kind == GatewayKind.Core, g.Links.Select(l => l.ToString()).ToArray())).ToArray();
            _gatewayByName = _gateways.ToDictionary(g => g.Name, StringComparer.Ordinal);
            _services = map.Services.Values.Select(s => new ServiceInfo(s.Name, s.Gateway)).ToArray();
            _serviceByName = _services.ToDictionary(s => s.Name, StringComparer.Ordinal);
            _dialed = _gateways.Where(g => g.Links.Count > 0).ToArray();
            _flows = new FlowSettings(map.Settings.PoolSize, map.Settings.FlowIdleTimeout, map.Settings.DialTimeout);
            _entriesOn = map.Entries.ToLookup(e => e.Gateway, StringComparer.Ordinal);
            _ownedBy = map.Services.Values.ToLookup(sv => sv.Gateway, StringComparer.Ordinal);
            _origins = map.AllowedOrigins();
            _paths = new PathIndex(links ?? WorkingLinks.Assumed(Members(map)), g => _gatewayByName.TryGetValue(g, out var info) && info.IsCore);
        }

        public RouteTable For(long version, string gateway)
        {
            var map = _map;
            var entries = _entriesOn[gateway]
                .Select(e => new ListenEntry(e.Listen.ToString(), e.Service, map.Services[e.Service].Gateway)
                {
                    Allow = map.AllowedClients(e).Select(n => n.ToString()).ToArray(), MaxConnections = e.MaxConnections,
                })
                .ToArray();
            var ownedConfigs = _ownedBy[gateway].ToArray();
            var owned = ownedConfigs.Select(s => new OwnedService(s.Name, s.Target.ToString(), ToSpec(s.Check))).ToArray();
            var access = ownedConfigs.Select(s => new ServiceAccess(s.Name, _origins[s.Name])).ToArray();
            var declared = _gatewayByName.TryGetValue(gateway, out var self);
            var everything = self is { } s0 && (s0.IsCore || s0.Links.Count > 0);

            IReadOnlyList<GatewayInfo> gateways = _gateways;
            IReadOnlyList<ServiceInfo> services = _services;
            IEnumerable<string>? destinations = null;
            if (declared && !everything)
            {
                var owners = entries.Select(e => e.Owner).Where(o => o != gateway).ToHashSet(StringComparer.Ordinal);
                var known = new HashSet<string>(owners, StringComparer.Ordinal) { gateway };
                known.UnionWith(_dialed.Select(g => g.Name));
                gateways = known.Order(StringComparer.Ordinal).Select(n => _gatewayByName[n]).ToArray();   // a few: not a scan of every gateway
                var used = entries.Select(e => e.Service).Concat(ownedConfigs.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
                services = used.Order(StringComparer.Ordinal).Select(n => _serviceByName[n]).ToArray();
                destinations = owners;
            }
            var hops = declared
                ? _paths.From(gateway, destinations).OrderBy(h => h.Key, StringComparer.Ordinal)
                    .Select(h => new NextHop(h.Key, h.Value.Via) { Cost = h.Value.Cost }).ToArray()
                : [];
            return new RouteTable(version, map.MeshName, gateway, declared, entries, owned, gateways, services, _flows, hops)
            {
                Revoked = map.Settings.Revoked, Access = access,
            };
        }
    }

    private static CheckSpec ToSpec(HealthCheck c) =>
        new(c.Kind.ToString().ToLowerInvariant(), c.Interval, c.Timeout, c.Rise, c.Fall, c.Path, c.PasswordEnv, c.User);
}
