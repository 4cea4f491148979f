namespace Mesh.Contracts.Routing;

/// <summary>Marker for messages of the route-table protocol (one serializer binding).</summary>
public interface IRoutingMessage;

/// <summary>
/// A gateway as every other gateway sees it. Core gateways have link addresses; an edge has none, or some
/// when it accepts links from other edges (one LAN, a private WAN).
/// </summary>
public sealed record GatewayInfo(string Name, bool IsCore, IReadOnlyList<string> Links);

/// <summary>A service and the gateway that owns it.</summary>
public sealed record ServiceInfo(string Name, string Owner)
{
    /// <summary>How this service's flows travel between gateways, when its config says (<c>services.NAME.link_mode</c>); null: the mesh's.</summary>
    public LinkMode? LinkMode { get; init; }
}

/// <summary>An address this gateway listens on, and the service whose flows it carries.</summary>
public sealed record ListenEntry(string Listen, string Service, string Owner)
{
    /// <summary>Client networks admitted (CIDR); empty: everyone.</summary>
    public IReadOnlyList<string> Allow { get; init; } = [];
    /// <summary>Clients served at once; more are refused at once.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Same address, service and limits (records would compare the allow lists by reference).</summary>
    public bool SameAs(ListenEntry other) => Equals(other);

    public bool Equals(ListenEntry? other) => other is not null && Listen == other.Listen && Service == other.Service && Owner == other.Owner
        && MaxConnections == other.MaxConnections && Allow.SequenceEqual(other.Allow);

    public override int GetHashCode() => HashCode.Combine(Listen, Service, Owner, MaxConnections);
}

/// <summary>How the owner checks a service (kind: none, tcp, redis, http, mysql).</summary>
/// <param name="PasswordEnv">redis: the owner's environment variable holding the AUTH password (the password itself never travels)</param>
/// <param name="User">mysql: the password-less user the check logs in as; null: the greeting alone. Added after
/// PasswordEnv: a node without it skips the field (the codec ignores unknown JSON members) and reads null from one that lacks it.</param>
public sealed record CheckSpec(string Kind, TimeSpan Interval, TimeSpan Timeout, int Rise, int Fall, string? Path, string? PasswordEnv = null,
    string? User = null);

/// <summary>A service this gateway owns: it dials <paramref name="Target"/> when a flow arrives.</summary>
public sealed record OwnedService(string Name, string Target, CheckSpec Check);

/// <summary>A service its owner reports down, and why (the owner's last failed probe).</summary>
public sealed record DownService(string Name, string Reason);

/// <summary>
/// Who may open flows to a service this gateway owns: the gateways listed (the service's <c>allow</c>, or by
/// default the gateways with an entry for it). The owner refuses every other origin with NotAllowed.
/// </summary>
public sealed record ServiceAccess(string Service, IReadOnlyList<string> Allow);

/// <summary>To reach <paramref name="Destination"/>, open the flow on a link to <paramref name="Via"/> (itself, when direct).</summary>
public sealed record NextHop(string Destination, string Via)
{
    /// <summary>The whole path's cost: the sum of its links' costs (round trips in 5 ms steps, at least 1 each). 0 from a director that did not say.</summary>
    public double Cost { get; init; }
}

/// <summary>Mesh-wide data-plane settings (see docs/config.md, [mesh]).</summary>
/// <param name="LinkMode">how a flow reaches a peer gateway: a pooled connection of its own, or a stream of a multiplexed one</param>
public sealed record FlowSettings(int PoolSize, TimeSpan FlowIdleTimeout, TimeSpan DialTimeout, LinkMode LinkMode = LinkMode.Pool);

/// <summary>How flows travel between gateways (<c>[mesh] link_mode</c>; docs/link-protocol.md).</summary>
public enum LinkMode
{
    /// <summary>One TLS connection per flow, claimed from a warm pool.</summary>
    Pool = 0,
    /// <summary>Many flows per TLS connection, each a stream with its own credit window; a few connections per peer.</summary>
    Mux = 1,
}

/// <summary>
/// What one gateway needs from the director: the entries it listens on, the services it owns, what
/// it knows of the others, and the next hop towards each gateway it can reach (direct or through relays). <paramref name="Declared"/> is false when the config does not name the gateway.
/// <paramref name="DownServices"/>: services their owner reports down; entries refuse their flows at once.
/// </summary>
public sealed record RouteTable(
    long Version,
    string Mesh,
    string Gateway,
    bool Declared,
    IReadOnlyList<ListenEntry> Entries,
    IReadOnlyList<OwnedService> Owned,
    IReadOnlyList<GatewayInfo> Gateways,
    IReadOnlyList<ServiceInfo> Services,
    FlowSettings Flows,
    IReadOnlyList<NextHop> NextHops,
    IReadOnlyList<DownService>? DownServices = null) : IRoutingMessage
{
    /// <summary>Fingerprints of revoked certificates ([mesh] revoked): refused on links and in the cluster.</summary>
    public IReadOnlyList<string> Revoked { get; init; } = [];

    /// <summary>For each service this gateway owns, who may open flows to it.</summary>
    public IReadOnlyList<ServiceAccess> Access { get; init; } = [];

    /// <summary>The gateways allowed to reach <paramref name="service"/> (owned here), or null if it is not owned here.</summary>
    public IReadOnlyList<string>? AllowedOrigins(string service) => RouteTableIndex.Of(this).Access.GetValueOrDefault(service);

    /// <summary>The gateway of that name in this table, or null (O(1), as the lookups below).</summary>
    public GatewayInfo? GatewayNamed(string name) => RouteTableIndex.Of(this).Gateways.GetValueOrDefault(name);

    public ServiceInfo? ServiceNamed(string name) => RouteTableIndex.Of(this).Services.GetValueOrDefault(name);

    /// <summary>How a flow of <paramref name="service"/> travels to the next gateway: the service's own mode, else the mesh's.</summary>
    public LinkMode LinkModeOf(string service) => ServiceNamed(service)?.LinkMode ?? Flows.LinkMode;

    /// <summary>Some flows travel multiplexed (the mesh's mode, or a service's): keep multiplexed sessions to the peers.</summary>
    public bool UsesMux => Flows.LinkMode == LinkMode.Mux || Services.Any(s => s.LinkMode == LinkMode.Mux);

    /// <summary>The service of that name this gateway owns, or null.</summary>
    public OwnedService? OwnedNamed(string name) => RouteTableIndex.Of(this).Owned.GetValueOrDefault(name);

    /// <summary>
    /// Does this gateway dial <paramref name="peer"/> (keep a pool of link connections to it)? Everyone dials
    /// the core gateways; an edge also dials the other edges that accept links. A core gateway never dials an
    /// edge: the edge dials it (the only way through an edge's NAT).
    /// </summary>
    public bool Dials(GatewayInfo peer) =>
        peer.Name != Gateway && GatewayNamed(Gateway) is { } self
        && (peer.IsCore || (!self.IsCore && peer.Links.Count > 0));

    /// <summary>The gateway to open a flow towards <paramref name="destination"/> on, or null if there is no path.</summary>
    public string? Via(string destination) => RouteTableIndex.Of(this).Via.GetValueOrDefault(destination);

    /// <summary>The version as users read it ("v1.3"), beside the number in the API's JSON (which orders numerically).</summary>
    public string VersionText => TableVersion.Text(Version);

    [System.Text.Json.Serialization.JsonIgnore]
    public string Summary =>
        $"route table {TableVersion.Text(Version)}: listening on {Logging.Plural.Count(Entries.Count, "entry", "entries")}, owning {Logging.Plural.Count(Owned.Count, "service")}";
}
