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

    /// <summary>
    /// The tables of one map and one set of working links. What comes from the map alone (each gateway's entries,
    /// services, the gateways it knows) is built once per map and shared by the builders that follow a change of
    /// links (<see cref="With"/>): tables of one config share those lists, so a delta compares them by reference.
    /// </summary>
    public sealed class Builder
    {
        private readonly MapParts _parts;
        private readonly PathIndex _paths;

        public Builder(RouteMap map, IReadOnlyList<LinkEdge>? links = null)
        {
            _parts = new MapParts(map);
            _paths = new PathIndex(links ?? WorkingLinks.Assumed(Members(map)), _parts.IsCore);
        }

        private Builder(MapParts parts, PathIndex paths) => (_parts, _paths) = (parts, paths);

        /// <summary>The builder after a change of links: the same map parts, paths updated where the change matters.</summary>
        public Builder With(IReadOnlyList<LinkChange> changes, out PathsChanged changed) => new(_parts, _paths.With(changes, out changed));

        /// <summary>
        /// Whether <paramref name="gateway"/>'s table may differ after <paramref name="changed"/>: its own links changed,
        /// or it has a next hop to a gateway whose paths changed (a core gateway or an edge that accepts links has one to every gateway).
        /// </summary>
        public bool MayDiffer(string gateway, PathsChanged changed)
        {
            if (changed.Everything || changed.Sources.Contains(gateway)) return true;
            if (changed.Destinations.Count == 0) return false;
            return _parts.Of(gateway).Destinations is not { } wanted || wanted.Overlaps(changed.Destinations);
        }

        /// <summary>
        /// <paramref name="held"/> (this gateway's table before <paramref name="changed"/>) under <paramref name="version"/>, its next hops
        /// to the destinations whose paths changed taken again and the others kept: a relay's table after a link
        /// change costs the few destinations that changed, not all of them. Null when its own links changed (or
        /// any path may have): build it with <see cref="For"/>.
        /// </summary>
        public RouteTable? Patched(RouteTable held, PathsChanged changed, long version)
        {
            var part = _parts.Of(held.Gateway);
            if (changed.Everything || changed.Sources.Contains(held.Gateway) || !part.Declared || !ReferenceEquals(held.Entries, part.Entries)) return null;
            var wanted = (part.Destinations is { } mine ? changed.Destinations.Where(mine.Contains) : changed.Destinations)
                .Where(d => d != held.Gateway).ToList();
            var now = _paths.Hops(held.Gateway, wanted);
            var reached = now.Select(h => h.Destination).ToHashSet(StringComparer.Ordinal);
            return held with { Version = version, NextHops = RouteTableDelta.Merge(held.NextHops, now, wanted.Where(d => !reached.Contains(d)).ToList()) };
        }

        public RouteTable For(long version, string gateway)
        {
            var part = _parts.Of(gateway);
            var hops = part.Declared
                ? _paths.Hops(gateway, part.Destinations)
                : [];
            return new RouteTable(version, _parts.Map.MeshName, gateway, part.Declared, part.Entries, part.Owned, part.Gateways, part.Services,
                _parts.Flows, hops)
            {
                Revoked = _parts.Revoked, Access = part.Access,
            };
        }
    }

    /// <summary>Two lists of gateways ordered by name, as one.</summary>
    private static IEnumerable<GatewayInfo> Merge(IEnumerable<GatewayInfo> first, IEnumerable<GatewayInfo> second)
    {
        using var a = first.GetEnumerator();
        using var b = second.GetEnumerator();
        bool hasA = a.MoveNext(), hasB = b.MoveNext();
        while (hasA || hasB)
            if (hasA && (!hasB || string.CompareOrdinal(a.Current.Name, b.Current.Name) <= 0)) { yield return a.Current; hasA = a.MoveNext(); }
            else { yield return b.Current; hasB = b.MoveNext(); }
    }

    /// <summary>What one gateway's table takes from the map: built once per map, shared by every version of its table.</summary>
    /// <param name="Destinations">the gateways it needs next hops to; null: every gateway it reaches</param>
    private sealed record GatewayPart(bool Declared, ListenEntry[] Entries, OwnedService[] Owned, ServiceAccess[] Access,
        IReadOnlyList<GatewayInfo> Gateways, IReadOnlyList<ServiceInfo> Services, IReadOnlySet<string>? Destinations);

    /// <summary>The lists every table of one map shares, and each gateway's part (made when first asked).</summary>
    private sealed class MapParts
    {
        public RouteMap Map { get; }
        public FlowSettings Flows { get; }
        /// <summary>One list for every table (the map's is a struct: each table would box its own copy, and deltas compare by reference).</summary>
        public IReadOnlyList<string> Revoked { get; }
        private readonly GatewayInfo[] _gateways;
        private readonly Dictionary<string, GatewayInfo> _gatewayByName;
        private readonly ServiceInfo[] _services;
        private readonly Dictionary<string, ServiceInfo> _serviceByName;
        /// <summary>The gateways every plain edge dials (core gateways, edges that accept links), by name.</summary>
        private readonly GatewayInfo[] _dialed;
        private readonly HashSet<string> _dialedNames;
        /// <summary>The map's entries and owned services by gateway, and each service's origins: looked up once, not scanned per table.</summary>
        private readonly ILookup<string, EntryConfig> _entriesOn;
        private readonly ILookup<string, ServiceConfig> _ownedBy;
        private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _origins;
        private readonly Dictionary<string, GatewayPart> _parts = new(StringComparer.Ordinal);
        /// <summary>The mesh's client networks ([mesh] allow), as every entry without its own list carries them.</summary>
        private readonly string[] _meshAllow;
        /// <summary>One CheckSpec per distinct check (most services share the default).</summary>
        private readonly Dictionary<HealthCheck, CheckSpec> _specs = [];

        public MapParts(RouteMap map)
        {
            Map = map;
            _gateways = map.Gateways.Values.Select(g => new GatewayInfo(g.Name, g.Kind == GatewayKind.Core, g.Links.Select(l => l.ToString()).ToArray())).ToArray();
            _gatewayByName = _gateways.ToDictionary(g => g.Name, StringComparer.Ordinal);
            _services = map.Services.Values.Select(s => new ServiceInfo(s.Name, s.Gateway) { LinkMode = ModeOf(s.LinkMode) }).ToArray();
            _serviceByName = _services.ToDictionary(s => s.Name, StringComparer.Ordinal);
            _dialed = _gateways.Where(g => g.Links.Count > 0).OrderBy(g => g.Name, StringComparer.Ordinal).ToArray();
            _dialedNames = _dialed.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
            Revoked = map.Settings.Revoked.ToArray();
            Flows = new FlowSettings(map.Settings.PoolSize, map.Settings.FlowIdleTimeout, map.Settings.DialTimeout,
                ModeOf(map.Settings.LinkMode) ?? LinkMode.Pool);
            _entriesOn = map.Entries.ToLookup(e => e.Gateway, StringComparer.Ordinal);
            _ownedBy = map.Services.Values.ToLookup(sv => sv.Gateway, StringComparer.Ordinal);
            _origins = map.AllowedOrigins();
            _meshAllow = map.Settings.Allow.Select(n => n.ToString()).ToArray();
        }

        private CheckSpec Spec(HealthCheck check)
        {
            if (!_specs.TryGetValue(check, out var spec)) _specs[check] = spec = ToSpec(check);
            return spec;
        }

        public bool IsCore(string gateway) => _gatewayByName.TryGetValue(gateway, out var info) && info.IsCore;

        public GatewayPart Of(string gateway)
        {
            if (!_parts.TryGetValue(gateway, out var part)) _parts[gateway] = part = Make(gateway);
            return part;
        }

        private GatewayPart Make(string gateway)
        {
            var entries = _entriesOn[gateway]
                .Select(e => new ListenEntry(e.Listen.ToString(), e.Service, _serviceByName[e.Service].Owner)   // the map's sorted dictionary: a tree walk per lookup
                {
                    Allow = e.Allow.IsEmpty ? _meshAllow : e.Allow.Select(n => n.ToString()).ToArray(), MaxConnections = e.MaxConnections,
                })
                .ToArray();
            var ownedConfigs = _ownedBy[gateway].ToArray();
            var owned = ownedConfigs.Select(s => new OwnedService(s.Name, s.Target.ToString(), Spec(s.Check))).ToArray();
            var access = ownedConfigs.Select(s => new ServiceAccess(s.Name, _origins[s.Name])).ToArray();
            var declared = _gatewayByName.TryGetValue(gateway, out var self);
            if (!declared || self!.IsCore || self.Links.Count > 0)   // a relay, or an edge any gateway may dial: it knows them all
                return new GatewayPart(declared, entries, owned, access, _gateways, _services, null);
            var owners = entries.Select(e => e.Owner).Where(o => o != gateway).ToHashSet(StringComparer.Ordinal);
            // the gateways it dials (ordered once per map) and the few others it knows, merged in name order
            var others = owners.Append(gateway).Where(n => !_dialedNames.Contains(n)).Distinct().Order(StringComparer.Ordinal)
                .Select(n => _gatewayByName[n]);
            var gateways = Merge(_dialed, others).ToArray();
            var used = entries.Select(e => e.Service).Concat(ownedConfigs.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
            var services = used.Order(StringComparer.Ordinal).Select(n => _serviceByName[n]).ToArray();
            return new GatewayPart(true, entries, owned, access, gateways, services, owners);
        }
    }

    /// <summary>A config's link_mode ("pool", "mux"; validated by the loader) as the tables carry it; null when not set.</summary>
    private static LinkMode? ModeOf(string? mode) => mode switch { "mux" => LinkMode.Mux, "pool" => LinkMode.Pool, _ => null };

    private static CheckSpec ToSpec(HealthCheck c) =>
        new(c.Kind.ToString().ToLowerInvariant(), c.Interval, c.Timeout, c.Rise, c.Fall, c.Path, c.PasswordEnv, c.User);
}
