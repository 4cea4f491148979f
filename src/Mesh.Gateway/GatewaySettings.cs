using Mesh.Gateway.Control;
using Mesh.Transport.Links;
using Mesh.Transport.Security;

namespace Mesh.Gateway;

/// <summary>The data plane of a gateway: its TLS identity, and for a core gateway its link ports (bound already: a taken port fails the start).</summary>
public sealed record DataPlaneSettings(MeshIdentity Identity, IReadOnlyList<LinkServer> LinkServers)
{
    /// <summary>A core gateway carries edges' control channels to the director through this.</summary>
    public IDirectorAsk? DirectorAsk { get; init; }
    /// <summary>Who is admitted: seeded from the director's config on a node that may host it, then from every table.</summary>
    public MeshTrust Trust { get; init; } = new();
    /// <summary>Client flows served at once across all entries.</summary>
    public int MaxClientFlows { get; init; } = int.MaxValue;
    /// <summary>True while the process is near its file-descriptor limit: new clients are refused.</summary>
    public Func<bool>? DescriptorsLow { get; init; }
    /// <summary>What --listen bound and --advertise says (a core gateway checks its `links` in the config against them).</summary>
    public IReadOnlyList<Mesh.Config.HostPort> Listen { get; init; } = [];
    public string? Advertise { get; init; }
    /// <summary>An edge: the core gateways' link addresses its control channel starts from (--join: addresses and SRV names).</summary>
    public Naming.JoinList Join { get; init; } = Naming.JoinList.Of();
    /// <summary>The route table in force, shared with whatever else reads it (the DNS server, --dns).</summary>
    public Flows.RouteView Routes { get; init; } = new();
}

/// <param name="Name">This gateway's unique name.</param>
/// <param name="LongPollWait">How long the director may hold a request while nothing changes (edges).</param>
/// <param name="RefreshInterval">Pause between two fetches; zero means ask again at once (a long-poll loop).</param>
/// <param name="RequestTimeout">When an unanswered request is given up and sent again (director moving, link down).</param>
public sealed record GatewaySettings(string Name, TimeSpan LongPollWait, TimeSpan RefreshInterval, TimeSpan RequestTimeout)
{
    /// <summary>Null: control plane only (no certificate given), e.g. in control-plane tests.</summary>
    public DataPlaneSettings? DataPlane { get; init; }

    /// <summary>
    /// An edge whose director has not answered for this long while its links to core gateways work moves its
    /// control channel to another core gateway (that core's control plane may be cut off from the director).
    /// 30 s: an edge's long poll is answered at least every 15 s, so two answers are missing. Null: never (core gateways).
    /// </summary>
    public TimeSpan? RestartControlPlaneAfter { get; init; }

    /// <summary>
    /// Core gateways long-poll too (the director answers at once when the table changes), and hear of
    /// changes through pub-sub as well: a push alone was missed by a member that had just joined (pub-sub
    /// learns of its subscription by gossip, a second or more later), which then waited for its next refresh.
    /// </summary>
    public static GatewaySettings Core(string name) =>
        new(name, TimeSpan.FromSeconds(15), TimeSpan.Zero, TimeSpan.FromSeconds(20));

    /// <summary>Edges get no pushes (they are behind NAT): they long-poll by version.</summary>
    public static GatewaySettings Edge(string name) =>
        new(name, TimeSpan.FromSeconds(15), TimeSpan.Zero, TimeSpan.FromSeconds(20)) { RestartControlPlaneAfter = TimeSpan.FromSeconds(30) };
}
