using Mesh.Contracts.Routing;

namespace Mesh.Director.Routing;

/// <summary>
/// Pure: the cheapest paths over one set of working links, for many sources. The neighbour lists are built
/// once. Only relays (core gateways) pass flows on, so a path from a gateway that does not relay is its
/// first link followed by a relay's own path: such a source costs one look at each neighbour per
/// destination, over the paths computed once per relay (one Dijkstra each, cached). A relay's own
/// paths are that Dijkstra. Ties go to the smaller hop count, then to the alphabetically first next hop,
/// the same as one Dijkstra from the source would give (<see cref="Paths"/>).
/// Gateways are numbered once (<see cref="Nodes"/>) and paths kept in arrays: at 1,000 gateways the relays'
/// Dijkstras relax ~2.4 million links, which string-keyed dictionaries made the most of a full recomputation.
/// </summary>
public sealed class PathIndex
{
    /// <summary>A path's label: cost, hops, and its first hop (a gateway's number; -1 for the source itself).</summary>
    private readonly record struct Label(double Cost, int Hops, int FirstHop)
    {
        public static readonly Label Unreached = new(double.PositiveInfinity, int.MaxValue, int.MaxValue);
        public bool Reached => !double.IsPositiveInfinity(Cost);
    }

    /// <summary>The gateways the links name, by number, with their ordinal rank (tie-breaks, ordered output): shared by the indexes that follow a change.</summary>
    private sealed class Nodes
    {
        public readonly string[] Names;
        public readonly Dictionary<string, int> Ids;
        public readonly int[] Rank;
        public readonly int[] ByRank;
        public readonly bool[] Relays;

        public Nodes(IEnumerable<string> names, Func<string, bool> relays)
        {
            Names = names.Distinct(StringComparer.Ordinal).ToArray();
            Ids = new Dictionary<string, int>(Names.Length, StringComparer.Ordinal);
            for (var i = 0; i < Names.Length; i++) Ids[Names[i]] = i;
            ByRank = Enumerable.Range(0, Names.Length).OrderBy(i => Names[i], StringComparer.Ordinal).ToArray();
            Rank = new int[Names.Length];
            for (var r = 0; r < ByRank.Length; r++) Rank[ByRank[r]] = r;
            Relays = Names.Select(relays).ToArray();
        }
    }

    private readonly Func<string, bool> _relays;
    private readonly Nodes _nodes;
    private readonly (int Peer, double Cost)[][] _neighbours;
    private readonly Label[]?[] _fromRelay;
    private readonly IComparer<Label> _order;

    /// <param name="relays">the gateways a path may pass through; null: every gateway</param>
    public PathIndex(IEnumerable<LinkEdge> links, Func<string, bool>? relays = null)
    {
        _relays = relays ?? (_ => true);
        var list = links.Where(l => l.A != l.B).ToList();
        _nodes = new Nodes(list.SelectMany(l => new[] { l.A, l.B }), _relays);
        var lists = new List<(int, double)>[_nodes.Names.Length];
        for (var i = 0; i < lists.Length; i++) lists[i] = [];
        foreach (var l in list)
        {
            int a = _nodes.Ids[l.A], b = _nodes.Ids[l.B];
            lists[a].Add((b, l.Cost));
            lists[b].Add((a, l.Cost));
        }
        _neighbours = lists.Select(Sorted).ToArray();
        _fromRelay = new Label[]?[_nodes.Names.Length];
        _order = Comparer<Label>.Create(Compare);
    }

    private PathIndex(PathIndex from, (int, double)[][] neighbours)
    {
        (_relays, _nodes, _neighbours, _order) = (from._relays, from._nodes, neighbours, from._order);
        _fromRelay = new Label[]?[_nodes.Names.Length];
    }

    /// <summary>The same order on every director: by the peer's name.</summary>
    private (int, double)[] Sorted(IEnumerable<(int Peer, double Cost)> list) => list.OrderBy(n => _nodes.Rank[n.Peer]).ToArray();

    /// <summary>Destination -> (next hop, path cost) from <paramref name="source"/>, for each of <paramref name="destinations"/> it can reach (null: every gateway it can reach).</summary>
    public IReadOnlyDictionary<string, (string Via, double Cost)> From(string source, IEnumerable<string>? destinations = null)
    {
        var result = new Dictionary<string, (string, double)>(StringComparer.Ordinal);
        foreach (var (d, l) in Labels(source, destinations)) result[_nodes.Names[d]] = (_nodes.Names[l.FirstHop], l.Cost);
        return result;
    }

    /// <summary>The next hops from <paramref name="source"/> to <paramref name="destinations"/> (null: every gateway it reaches), ordered by destination.</summary>
    public NextHop[] Hops(string source, IEnumerable<string>? destinations = null) =>
        Labels(source, destinations).Select(x => new NextHop(_nodes.Names[x.Destination], _nodes.Names[x.Label.FirstHop]) { Cost = x.Label.Cost }).ToArray();

    /// <summary>The best label of each destination reached, in the order of the destinations' names.</summary>
    private IEnumerable<(int Destination, Label Label)> Labels(string sourceName, IEnumerable<string>? destinations)
    {
        if (!_nodes.Ids.TryGetValue(sourceName, out var source)) yield break;
        IEnumerable<int> targets = destinations is null ? _nodes.ByRank
            : destinations.Select(d => _nodes.Ids.TryGetValue(d, out var id) ? id : -1).Where(id => id >= 0).Distinct().OrderBy(id => _nodes.Rank[id]);
        if (_nodes.Relays[source])
        {
            var labels = Relay(source);
            foreach (var d in targets)
                if (d != source && labels[d].Reached) yield return (d, labels[d]);
            yield break;
        }
        var first = _neighbours[source].Select(n => (n.Peer, n.Cost, Paths: _nodes.Relays[n.Peer] ? Relay(n.Peer) : null)).ToArray();
        foreach (var d in targets)
        {
            if (d == source) continue;
            var best = Label.Unreached;
            foreach (var (peer, cost, paths) in first)
            {
                Label candidate;
                if (peer == d) candidate = new Label(cost, 1, peer);
                else if (paths is not null && paths[d] is { Reached: true } rest) candidate = new Label(cost + rest.Cost, 1 + rest.Hops, peer);
                else continue;
                if (Compare(candidate, best) < 0) best = candidate;
            }
            if (best.Reached) yield return (d, best);
        }
    }

    /// <summary>Every gateway a relay reaches, with the label of its best path (one Dijkstra, cached): only relays are expanded.</summary>
    private Label[] Relay(int source)
    {
        if (_fromRelay[source] is { } cached) return cached;
        var best = new Label[_nodes.Names.Length];
        Array.Fill(best, Label.Unreached);
        best[source] = new Label(0, 0, -1);
        var done = new bool[best.Length];
        var queue = new PriorityQueue<int, Label>(_order);
        queue.Enqueue(source, best[source]);
        while (queue.TryDequeue(out var at, out var here))
        {
            if (done[at]) continue;
            done[at] = true;
            foreach (var (peer, cost) in _neighbours[at])
            {
                var via = new Label(here.Cost + cost, here.Hops + 1, at == source ? peer : here.FirstHop);
                if (done[peer] || Compare(best[peer], via) <= 0) continue;
                best[peer] = via;
                // a gateway that does not relay is reached but never expanded: its label is final once no relay
                // relaxes it lower, so it needs no place in the queue (most gateways are edges)
                if (_nodes.Relays[peer]) queue.Enqueue(peer, via);
            }
        }
        return _fromRelay[source] = best;
    }

    /// <summary>
    /// The index after <paramref name="changes"/>, sharing what they leave alone; this one is unchanged. A link between
    /// two relays may change any path: every relay's paths are computed again (when asked). A link with an end
    /// that does not relay (an edge) changes only the paths that end there, since no path passes through it: its
    /// label is taken again in each relay's paths from its relay neighbours (a few lookups per relay), as the
    /// Dijkstra would have set it. <paramref name="changed"/> says which tables may differ.
    /// </summary>
    public PathIndex With(IReadOnlyList<LinkChange> changes, out PathsChanged changed)
    {
        var real = changes.Where(c => c.A != c.B).ToList();
        if (real.Any(c => !_nodes.Ids.ContainsKey(c.A) || !_nodes.Ids.ContainsKey(c.B)))
        {   // a gateway these links never named: number them all again
            changed = PathsChanged.All;
            return new PathIndex(LinksAfter(real), _relays);
        }
        var neighbours = ((int, double)[][])_neighbours.Clone();
        foreach (var c in real)
        {
            int a = _nodes.Ids[c.A], b = _nodes.Ids[c.B];
            neighbours[a] = Sorted(neighbours[a].Where(n => n.Item1 != b).Concat(c.After is { } l ? [(b, l.Cost)] : []));
            neighbours[b] = Sorted(neighbours[b].Where(n => n.Item1 != a).Concat(c.After is { } l2 ? [(a, l2.Cost)] : []));
        }
        var next = new PathIndex(this, neighbours);
        if (real.Any(c => _nodes.Relays[_nodes.Ids[c.A]] && _nodes.Relays[_nodes.Ids[c.B]]))
        {
            changed = PathsChanged.All;
            return next;
        }
        var ends = real.SelectMany(c => new[] { _nodes.Ids[c.A], _nodes.Ids[c.B] }).Where(g => !_nodes.Relays[g]).Distinct().ToList();
        var destinations = new HashSet<string>(StringComparer.Ordinal);
        for (var relay = 0; relay < _fromRelay.Length; relay++)
        {
            if (_fromRelay[relay] is not { } labels) continue;
            var copy = (Label[])labels.Clone();
            foreach (var end in ends)
            {
                copy[end] = next.EndLabel(copy, relay, end);
                if (copy[end] != labels[end]) destinations.Add(_nodes.Names[end]);
            }
            next._fromRelay[relay] = copy;
        }
        changed = new PathsChanged(false, ends.Select(e => _nodes.Names[e]).ToHashSet(StringComparer.Ordinal), destinations);
        return next;
    }

    /// <summary>
    /// The label of <paramref name="end"/> (a gateway that does not relay) in <paramref name="relay"/>'s paths: the
    /// best of its relay neighbours' labels plus the link, as the Dijkstra sets it (same order of comparison).
    /// </summary>
    private Label EndLabel(Label[] labels, int relay, int end)
    {
        var best = Label.Unreached;
        foreach (var (peer, cost) in _neighbours[end])
        {
            if (!_nodes.Relays[peer] || !labels[peer].Reached) continue;
            var at = labels[peer];
            var via = new Label(at.Cost + cost, at.Hops + 1, peer == relay ? end : at.FirstHop);
            if (Compare(via, best) < 0) best = via;
        }
        return best;
    }

    /// <summary>Every link of this index with <paramref name="changes"/> applied (each pair once).</summary>
    private List<LinkEdge> LinksAfter(IReadOnlyList<LinkChange> changes)
    {
        var links = new Dictionary<(string, string), LinkEdge>();
        for (var a = 0; a < _neighbours.Length; a++)
            foreach (var (b, cost) in _neighbours[a])
                if (a < b) links[Key(_nodes.Names[a], _nodes.Names[b])] = new LinkEdge(_nodes.Names[a], _nodes.Names[b], cost);
        foreach (var c in changes)
            if (c.After is { } l) links[Key(c.A, c.B)] = l;
            else links.Remove(Key(c.A, c.B));
        return [.. links.Values];

        static (string, string) Key(string x, string y) => string.CompareOrdinal(x, y) < 0 ? (x, y) : (y, x);
    }

    private int Compare(Label x, Label y) =>
        x.Cost != y.Cost ? x.Cost.CompareTo(y.Cost)
        : x.Hops != y.Hops ? x.Hops.CompareTo(y.Hops)
        : RankOf(x.FirstHop).CompareTo(RankOf(y.FirstHop));

    /// <summary>The source's own label (no first hop) orders first, as the empty name did.</summary>
    private int RankOf(int node) => node < 0 ? -1 : node == int.MaxValue ? int.MaxValue : _nodes.Rank[node];
}
