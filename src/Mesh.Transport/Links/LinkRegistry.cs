using System.Collections.Concurrent;
using Mesh.Transport.Protocol;

namespace Mesh.Transport.Links;

/// <summary>All pools of this gateway, by peer name, and where flows claimed by peers are handed.</summary>
public sealed class LinkRegistry(Action<LinkConnection, Open> onPeerFlow)
{
    private readonly ConcurrentDictionary<string, LinkPool> _pools = new();

    public LinkPool Pool(string peer) => _pools.GetOrAdd(peer, p => new LinkPool(p));

    public IEnumerable<LinkPool> Pools => _pools.Values;

    /// <summary>Puts a fresh authenticated connection (dialed or accepted) into its peer's pool.</summary>
    public void Add(LinkConnection link) => Pool(link.Peer).Add(link, onPeerFlow);

    public void Sweep(TimeSpan deadAfter)
    {
        foreach (var pool in _pools.Values) pool.Sweep(deadAfter);
    }
}
