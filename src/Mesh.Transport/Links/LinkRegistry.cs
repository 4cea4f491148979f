using System.Collections.Concurrent;
using Mesh.Transport.Links.Mux;
using Mesh.Transport.Protocol;

namespace Mesh.Transport.Links;

/// <summary>All pools of this gateway, by peer name, and where flows claimed by peers are handed.</summary>
public sealed class LinkRegistry(Action<LinkConnection, Open> onPeerFlow)
{
    private readonly ConcurrentDictionary<string, LinkPool> _pools = new();
    /// <summary>Every open connection, idle or carrying a flow or an edge's control channel: what a cut closes.</summary>
    private readonly ConcurrentDictionary<LinkConnection, byte> _live = new();
    /// <summary>Whether the links this gateway dials work, as their LinkActors last said.</summary>
    private readonly ConcurrentDictionary<string, bool> _dialedUp = new();

    public void DialedLinkState(string peer, bool up) => _dialedUp[peer] = up;

    /// <summary>Our link to <paramref name="peer"/> (one we dial) is known to be down: no use dialing it for a flow.</summary>
    public bool KnownDown(string peer) => _dialedUp.TryGetValue(peer, out var up) && !up;

    public bool KnownUp(string peer) => _dialedUp.TryGetValue(peer, out var up) && up;

    /// <summary>The multiplexed sessions (link mode mux), beside the pools.</summary>
    public MuxLinks Mux { get; } = new(onPeerFlow);

    public LinkPool Pool(string peer) => _pools.GetOrAdd(peer, p => new LinkPool(p));

    public IEnumerable<LinkPool> Pools => _pools.Values;

    /// <summary>Puts a fresh authenticated connection (dialed or accepted) into its peer's pool.</summary>
    public void Add(LinkConnection link)
    {
        Track(link);
        if (link.Purpose == LinkPurpose.Mux) Mux.Add(link);
        else Pool(link.Peer).Add(link, onPeerFlow);
    }

    /// <summary>Counts a connection among the live ones until it is disposed (pooled ones are tracked by <see cref="Add"/>).</summary>
    public void Track(LinkConnection link)
    {
        if (!_live.TryAdd(link, 0)) return;
        link.Disposed += c => _live.TryRemove(c, out _);
        if (link.IsClosed) _live.TryRemove(link, out _);
    }

    /// <summary>The open connections to <paramref name="peer"/> (idle, in flows, control).</summary>
    public int LiveCount(string peer) => _live.Keys.Count(c => c.Peer == peer);

    /// <summary>
    /// Closes every connection whose peer <paramref name="stillAdmitted"/> refuses (removed from the config,
    /// revoked), whatever it carries: its flows end with it. Returns the peers cut.
    /// </summary>
    public IReadOnlyList<string> Cut(Func<Mesh.Transport.Security.GatewayIdentity, bool> stillAdmitted)
    {
        var cut = _live.Keys.Where(c => !stillAdmitted(c.PeerIdentity)).ToList();
        foreach (var c in cut) _ = c.DisposeAsync().AsTask();
        return cut.Select(c => c.Peer).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// A flow is done with <paramref name="link"/>: back to its pool if the flow ended cleanly on it
    /// (<paramref name="reusable"/>) and the pool has room (<see cref="LinkPool.DialedIdleCap"/>), else closed.
    /// </summary>
    public async Task ReleaseAsync(LinkConnection link, bool reusable)
    {
        if (link.Stream is MuxStream stream)
        {   // a stream carries one flow: its end is a Close if the flow ended cleanly, else a Reset (the peer fails its side)
            if (!reusable) stream.Reset();
            await link.DisposeAsync();
            return;
        }
        if (reusable && Pool(link.Peer).Return(link)) return;
        await link.DisposeAsync();
    }

    /// <summary>
    /// Opens <paramref name="open"/>'s flow on a stream of a multiplexed session to <paramref name="peer"/>. A null
    /// result: there is no session to it (the caller uses the pool). A failure is final: the peer may have started
    /// the flow (dialed the service) before its answer was lost, and a second Open would start it twice.
    /// </summary>
    public async Task<(LinkConnection?, ClaimResult?)> ClaimStreamAsync(string peer, Open open, TimeSpan answerTimeout, CancellationToken ct)
    {
        if (Mux.Open(peer) is not { } link) return (null, null);
        var result = await link.ClaimAsync(open, answerTimeout, ct);
        if (result.Status is ClaimStatus.Accepted or ClaimStatus.Refused)
        {
            Mesh.Contracts.Metrics.MeshMeter.Streams.Add(1, new KeyValuePair<string, object?>("peer", peer));
            return (link, result);
        }
        if (link.Stream is MuxStream stream) stream.Reset();   // the peer's side of it fails, if it started
        await link.DisposeAsync();
        return (null, result with { Status = ClaimStatus.Failed });
    }

    /// <summary>Claims a connection dialed just now for one flow (see <see cref="LinkPool.ClaimFreshAsync"/>).</summary>
    public Task<ClaimResult> ClaimFreshAsync(LinkConnection link, Open open, TimeSpan answerTimeout, CancellationToken ct)
    {
        Track(link);
        link.ClaimedByPeerFlow += onPeerFlow;   // a peer may still claim it first
        return LinkPool.ClaimFreshAsync(link, open, answerTimeout, ct);
    }

    public void Sweep(TimeSpan deadAfter)
    {
        foreach (var pool in _pools.Values) pool.Sweep(deadAfter);
    }
}
