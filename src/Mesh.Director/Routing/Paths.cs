using System.Collections.Immutable;

namespace Mesh.Director.Routing;

/// <summary>A working link between two gateways (either may have dialed it; flows cross it both ways).</summary>
public sealed record LinkEdge(string A, string B, double Cost = 1);

/// <summary>
/// Pure: the cheapest working path from one gateway to every other, as the next hop to take. Links carry
/// flows both ways, so the graph is undirected. Ties go to the smaller hop count, then to the
/// alphabetically first next hop, so every run (and every director) computes the same tables.
/// </summary>
public static class Paths
{
    /// <summary>Destination -> next hop from <paramref name="source"/>, for every gateway it can reach.</summary>
    public static ImmutableSortedDictionary<string, string> NextHops(string source, IEnumerable<LinkEdge> links)
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
            foreach (var (peer, cost) in neighbours.GetValueOrDefault(at) ?? [])
            {
                var via = (here.Cost + cost, here.Hops + 1, at == source ? peer : here.FirstHop);
                if (done.Contains(peer) || (best.TryGetValue(peer, out var known) && Compare(known, via) <= 0)) continue;
                best[peer] = via;
                queue.Enqueue(peer, via);
            }
        }
        return best.Where(b => b.Key != source).ToImmutableSortedDictionary(b => b.Key, b => b.Value.FirstHop, StringComparer.Ordinal);

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
    /// The links a mesh config promises before any test: every gateway dials every core gateway (edges
    /// dial out only), so each pair with at least one core side is a link.
    /// </summary>
    public static IEnumerable<LinkEdge> Declared(IEnumerable<(string Name, bool IsCore)> gateways)
    {
        var all = gateways.OrderBy(g => g.Name, StringComparer.Ordinal).ToList();
        for (var i = 0; i < all.Count; i++)
            for (var j = i + 1; j < all.Count; j++)
                if (all[i].IsCore || all[j].IsCore)
                    yield return new LinkEdge(all[i].Name, all[j].Name);
    }
}
