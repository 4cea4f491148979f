using System.Collections.Immutable;

namespace Mesh.Director.Routing;

/// <summary>A working link between two gateways (either may have dialed it; flows cross it both ways).</summary>
public sealed record LinkEdge(string A, string B, double Cost = 1)
{
    /// <summary>
    /// A direct link between two edges (at least one accepts links): a shortcut past the core gateways that
    /// works only where the two can reach each other (one LAN, a private WAN), which the config cannot know.
    /// Paths use it only once a test reports it up; until then flows go through a core gateway.
    /// </summary>
    public bool Shortcut { get; init; }
}

/// <summary>A gateway as paths see it: whether it is a core gateway (cores relay) and whether others can dial it.</summary>
public readonly record struct Member(string Name, bool IsCore, bool AcceptsLinks);

/// <summary>
/// Pure: the cheapest working path from one gateway to every other, as the next hop to take. Links carry
/// flows both ways, so the graph is undirected. Only core gateways relay: a path crosses an edge only
/// where it starts or ends. Ties go to the smaller hop count, then to the alphabetically first next hop,
/// so every run (and every director) computes the same tables.
/// </summary>
public static class Paths
{
    /// <summary>Destination -> next hop from <paramref name="source"/>, for every gateway it can reach.</summary>
    /// <param name="mayRelay">the gateways a path may pass through (core gateways); null: every gateway</param>
    public static ImmutableSortedDictionary<string, string> NextHops(string source, IEnumerable<LinkEdge> links, Func<string, bool>? mayRelay = null) =>
        Costs(source, links, mayRelay).ToImmutableSortedDictionary(c => c.Key, c => c.Value.Via, StringComparer.Ordinal);

    /// <summary>Destination -> next hop from <paramref name="source"/> and the path's cost, for every gateway it can reach.</summary>
    public static IReadOnlyDictionary<string, (string Via, double Cost)> Costs(string source, IEnumerable<LinkEdge> links, Func<string, bool>? mayRelay = null)
    {
        var neighbours = new Dictionary<string, List<(string Peer, double Cost)>>();
        foreach (var l in links.Where(l => l.A != l.B))
        {
            Add(l.A, l.B, l.Cost);
            Add(l.B, l.A, l.Cost);
        }

        var best = new Dictionary<string, (double Cost, int Hops, string FirstHop)> { [source] = (0, 0, "") };
        var queue = new PriorityQueue<string, (double Cost, int Hops, string FirstHop)>(Comparer<(double Cost, int Hops, string FirstHop)>.Create(Compare));
        queue.Enqueue(source, best[source]);
        var done = new HashSet<string>();
        while (queue.TryDequeue(out var at, out var here))
        {
            if (!done.Add(at)) continue;
            if (at != source && mayRelay is not null && !mayRelay(at)) continue;   // reached, but flows do not pass through it
            foreach (var (peer, cost) in neighbours.GetValueOrDefault(at) ?? [])
            {
                var via = (here.Cost + cost, here.Hops + 1, at == source ? peer : here.FirstHop);
                if (done.Contains(peer) || (best.TryGetValue(peer, out var known) && Compare(known, via) <= 0)) continue;
                best[peer] = via;
                queue.Enqueue(peer, via);
            }
        }
        return best.Where(b => b.Key != source).ToDictionary(b => b.Key, b => (b.Value.FirstHop, b.Value.Cost), StringComparer.Ordinal);

        void Add(string from, string to, double cost)
        {
            if (!neighbours.TryGetValue(from, out var list)) neighbours[from] = list = [];
            list.Add((to, cost));
        }
    }

    private static int Compare((double Cost, int Hops, string FirstHop) x, (double Cost, int Hops, string FirstHop) y) =>
        x.Cost != y.Cost ? x.Cost.CompareTo(y.Cost)
        : x.Hops != y.Hops ? x.Hops.CompareTo(y.Hops)
        : string.CompareOrdinal(x.FirstHop, y.FirstHop);

    /// <summary>
    /// The links a mesh config promises before any test: every gateway dials every gateway that declares
    /// link addresses (an edge without any only dials out), so each pair where one side accepts links is a
    /// link. One between two edges is a <see cref="LinkEdge.Shortcut"/>.
    /// </summary>
    public static IEnumerable<LinkEdge> Declared(IEnumerable<Member> gateways)
    {
        var all = gateways.OrderBy(g => g.Name, StringComparer.Ordinal).ToList();
        for (var i = 0; i < all.Count; i++)
            for (var j = i + 1; j < all.Count; j++)
                if (all[i].AcceptsLinks || all[j].AcceptsLinks || all[i].IsCore || all[j].IsCore)
                    yield return new LinkEdge(all[i].Name, all[j].Name) { Shortcut = !all[i].IsCore && !all[j].IsCore };
    }
}
