using System.Net;
using Mesh.Transport.Security;

namespace Mesh.Gateway;

/// <summary>The data plane of a gateway: its TLS identity, and for a core gateway the link address it listens on.</summary>
public sealed record DataPlaneSettings(MeshIdentity Identity, EndPoint? LinkListen);

/// <param name="Name">This gateway's unique name.</param>
/// <param name="IsCore">Core gateways are cluster members; edges sit behind NAT and only dial out.</param>
/// <param name="LongPollWait">How long the director may hold a request while nothing changes (edges).</param>
/// <param name="RefreshInterval">Pause between two fetches; zero means ask again at once (a long-poll loop).</param>
/// <param name="RequestTimeout">When an unanswered request is given up and sent again (director moving, link down).</param>
public sealed record GatewaySettings(string Name, bool IsCore, TimeSpan LongPollWait, TimeSpan RefreshInterval, TimeSpan RequestTimeout)
{
    /// <summary>Null: control plane only (no certificate given), e.g. in control-plane tests.</summary>
    public DataPlaneSettings? DataPlane { get; init; }

    /// <summary>
    /// An edge whose director has not answered for this long while its links to core gateways work asks
    /// for a new control plane: its ClusterClient was once seen stuck for minutes after a NAT forgot its
    /// mappings (the sites suite), and a new one connects in seconds. 30 s: an edge's long poll is answered
    /// at least every 15 s, so two answers are missing. Null: never (core gateways).
    /// </summary>
    public TimeSpan? RestartControlPlaneAfter { get; init; }

    /// <summary>Core gateways hear of changes through pub-sub and refresh now and then as a safety net.</summary>
    public static GatewaySettings Core(string name) =>
        new(name, true, TimeSpan.Zero, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5));

    /// <summary>Edges get no pushes (they are behind NAT): they long-poll by version.</summary>
    public static GatewaySettings Edge(string name) =>
        new(name, false, TimeSpan.FromSeconds(15), TimeSpan.Zero, TimeSpan.FromSeconds(20)) { RestartControlPlaneAfter = TimeSpan.FromSeconds(30) };
}
