using System.Net;
using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Health;
using Mesh.Transport.Links;
using Mesh.Transport.Security;

namespace Mesh.Gateway.Flows;

/// <summary>The route table in force, readable from any thread; flows read it once when they start.</summary>
public sealed class RouteView
{
    private volatile RouteTable? _current;
    public RouteTable? Current => _current;
    public void Update(RouteTable table) => _current = table;
}

/// <summary>What every flow of this gateway shares: who we are, our links, the routes in force, and who is admitted.</summary>
public sealed record FlowContext(string Self, MeshIdentity Identity, LinkRegistry Links, RouteView Routes)
{
    /// <summary>Who may hold links to this gateway, and whose word about a flow's origin counts (from the route tables).</summary>
    public MeshTrust Trust { get; init; } = new();

    /// <summary>Client flows this gateway serves at once across all its entries (file descriptors kept in reserve for its own work).</summary>
    public ClientSlots ClientSlots { get; init; } = new(int.MaxValue);

    /// <summary>Services down now: entries refuse their new flows at once.</summary>
    public ServiceHealthView Health { get; } = new();

    /// <summary>How long the director-given hop budget allows a flow to travel (relays decrease it).</summary>
    public const byte DefaultHopBudget = 8;
    /// <summary>How long an entry waits for an idle link towards an edge (which refills its pool).</summary>
    public static readonly TimeSpan EdgePoolWait = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan LinkDialTimeout = TimeSpan.FromSeconds(5);
    /// <summary>
    /// How long a flow that found no idle link to a gateway this one dials waits for its turn to dial one
    /// (<see cref="LinkPool.FreshDialsAtOnce"/> at once): the turns of a burst of thousands go by within it;
    /// towards a peer that does not answer at all, three dial timeouts.
    /// </summary>
    public static readonly TimeSpan FreshDialWait = 3 * LinkDialTimeout;

    /// <summary>
    /// A flow that arrived on a stream of a multiplexed link while the process is near its descriptor limit: such a
    /// stream cost the peer no descriptor, but its flow costs this gateway one, so it is refused. Flows on pooled
    /// connections are not asked (each cost the peer a connection; the check lists /proc/self/fd, not free under churn).
    /// </summary>
    public bool ShortOfDescriptorsFor(LinkConnection from) => from.Purpose == Mesh.Transport.Protocol.LinkPurpose.Mux && ClientSlots.DescriptorsLow;

    /// <summary>A flow is done with its link: pooled again if it ended cleanly, else closed (see LinkRegistry).</summary>
    public Task ReleaseLinkAsync(LinkConnection link, bool reusable) =>
        Links.ReleaseAsync(link, reusable);
}

/// <summary>
/// The gateway-wide cap on client flows: each takes a slot while it runs (two file descriptors: the client's
/// and the link's or the service's), so that a flood on one entry cannot take the descriptors the links, the
/// director, its store and the API need. <paramref name="descriptorsLow"/> says when the process itself is
/// near its limit (what the gateway's own work uses grows with its peers and pools): a client is refused
/// then too, whatever the count.
/// </summary>
public sealed class ClientSlots(int capacity, Func<bool>? descriptorsLow = null)
{
    private int _used;
    public int Capacity { get; } = capacity;
    public int Used => Volatile.Read(ref _used);

    /// <summary>The process is near its descriptor limit (see <see cref="FlowContext.ShortOfDescriptorsFor"/>).</summary>
    public bool DescriptorsLow => descriptorsLow?.Invoke() == true;

    public bool TryTake()
    {
        if (descriptorsLow?.Invoke() == true) return false;
        if (Interlocked.Increment(ref _used) <= Capacity) return true;
        Interlocked.Decrement(ref _used);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _used);
}
