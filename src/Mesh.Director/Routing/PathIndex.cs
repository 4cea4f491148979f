namespace Mesh.Director.Routing;

/// <summary>
/// Pure: the cheapest paths over one set of working links, for many sources. The neighbour lists are built
/// once. Only relays (core gateways) pass flows on, so a path from a gateway that does not relay is its
/// first link followed by a relay's own path: such a source costs one look at each neighbour per
/// destination, over the paths computed once per relay (one Dijkstra each, cached). A relay's own
/// paths are that Dijkstra. Ties go to the smaller hop count, then to the alphabetically first next hop,
/// the same as one Dijkstra from the source would give (<see cref="Paths"/>).
/// </summary>
public sealed class PathIndex
{
    private readonly Dictionary<string, List<(string Peer, double Cost)>> _neighbours = [];
    private readonly Func<string, bool> _relays;
    private readonly Dictionary<string, Dictionary<string, Label>> _fromRelay = [];

    /// <summary>A path's label: cost, hops, and its first hop (empty for the source itself).</summary>
    private readonly record struct Label(double Cost, int Hops, string FirstHop);

    /// <param name="relays">the gateways a path may pass through; null: every gateway</param>
    public PathIndex(IEnumerable<LinkEdge> links, Func<string, bool>? relays = null)
    {
        _relays = relays ?? (_ => true);
        foreach (var l in links.Where(l => l.A != l.B))
        {
            Add(l.A, l.B, l.Cost);
            Add(l.B, l.A, l.Cost);
        }
        foreach (var list in _neighbours.Values) list.Sort((x, y) => string.CompareOrdinal(x.Peer, y.Peer));   // the same order on every director
    }

    private PathIndex(Dictionary<string, List<(string Peer, double Cost)>> neighbours, Func<string, bool> relays,
        Dictionary<string, Dictionary<string, Label>> fromRelay) =>
        (_neighbours, _relays, _fromRelay) = (neighbours, relays, fromRelay);

    private void Add(string from, string to, double cost)
    {
        if (!_neighbours.TryGetValue(from, out var list)) _neighbours[from] = list = [];
        list.Add((to, cost));
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
        var neighbours = new Dictionary<string, List<(string Peer, double Cost)>>(_neighbours, StringComparer.Ordinal);
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in changes.Where(c => c.A != c.B))
        {
            Replace(c.A, c.B, c.After?.Cost);
            Replace(c.B, c.A, c.After?.Cost);
        }
        foreach (var list in touched.Select(g => neighbours[g])) list.Sort((x, y) => string.CompareOrdinal(x.Peer, y.Peer));
        if (changes.Any(c => _relays(c.A) && _relays(c.B)))
        {
            changed = PathsChanged.All;
            return new PathIndex(neighbours, _relays, []);
        }
        var ends = changes.SelectMany(c => new[] { c.A, c.B }).Where(g => !_relays(g)).ToHashSet(StringComparer.Ordinal);
        var next = new PathIndex(neighbours, _relays, new Dictionary<string, Dictionary<string, Label>>(_fromRelay.Count, StringComparer.Ordinal));
        var destinations = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (relay, labels) in _fromRelay)
        {
            var copy = new Dictionary<string, Label>(labels, StringComparer.Ordinal);
            foreach (var end in ends)
            {
                var label = next.EndLabel(copy, relay, end);
                var had = copy.TryGetValue(end, out var was);
                if (label is { } l) copy[end] = l;
                else copy.Remove(end);
                if (had != label.HasValue || (had && label is { } now && now != was)) destinations.Add(end);
            }
            next._fromRelay[relay] = copy;
        }
        changed = new PathsChanged(false, ends, destinations);
        return next;

        void Replace(string from, string to, double? cost)
        {
            var list = touched.Add(from) ? neighbours[from] = [.. neighbours.GetValueOrDefault(from) ?? []] : neighbours[from];
            list.RemoveAll(n => n.Peer == to);
            if (cost is { } c) list.Add((to, c));
        }
    }

    /// <summary>
    /// The label of <paramref name="end"/> (a gateway that does not relay) in <paramref name="relay"/>'s paths: the
    /// best of its relay neighbours' labels plus the link, as the Dijkstra sets it (same order of comparison).
    /// </summary>
    private Label? EndLabel(Dictionary<string, Label> labels, string relay, string end)
    {
        Label? best = null;
        foreach (var (peer, cost) in _neighbours.GetValueOrDefault(end) ?? [])
        {
            if (!_relays(peer) || !labels.TryGetValue(peer, out var at)) continue;
            var via = new Label(at.Cost + cost, at.Hops + 1, peer == relay ? end : at.FirstHop);
            if (best is not { } b || Compare(via, b) < 0) best = via;
        }
        return best;
    }

    /// <summary>Destination -> (next hop, path cost) from <paramref name="source"/>, for each of <paramref name="destinations"/> it can reach (null: every gateway it can reach).</summary>
    public IReadOnlyDictionary<string, (string Via, double Cost)> From(string source, IEnumerable<string>? destinations = null)
    {
        if (_relays(source))
        {
            var labels = Relay(source);
            var wanted = destinations ?? labels.Keys;
            var hops = new Dictionary<string, (string, double)>(StringComparer.Ordinal);
            foreach (var d in wanted)
                if (d != source && labels.TryGetValue(d, out var l)) hops[d] = (l.FirstHop, l.Cost);
            return hops;
        }
        var first = _neighbours.GetValueOrDefault(source) ?? [];
        var targets = destinations ?? first.SelectMany(n => _relays(n.Peer) ? (IEnumerable<string>)Relay(n.Peer).Keys : [n.Peer]).Distinct();
        var result = new Dictionary<string, (string, double)>(StringComparer.Ordinal);
        foreach (var d in targets)
        {
            if (d == source) continue;
            Label? best = null;
            foreach (var (peer, cost) in first)
            {
                Label candidate;
                if (peer == d) candidate = new Label(cost, 1, peer);
                else if (_relays(peer) && Relay(peer).TryGetValue(d, out var rest)) candidate = new Label(cost + rest.Cost, 1 + rest.Hops, peer);
                else continue;
                if (best is not { } b || Compare(candidate, b) < 0) best = candidate;
            }
            if (best is { } found) result[d] = (found.FirstHop, found.Cost);
        }
        return result;
    }

    /// <summary>Every gateway a relay reaches, with the label of its best path (one Dijkstra, cached): only relays are expanded.</summary>
    private Dictionary<string, Label> Relay(string source)
    {
        if (_fromRelay.TryGetValue(source, out var cached)) return cached;
        var best = new Dictionary<string, Label>(StringComparer.Ordinal) { [source] = new Label(0, 0, "") };
        var queue = new PriorityQueue<string, Label>(Comparer<Label>.Create(Compare));
        queue.Enqueue(source, best[source]);
        var done = new HashSet<string>(StringComparer.Ordinal);
        while (queue.TryDequeue(out var at, out var here))
        {
            if (!done.Add(at)) continue;
            if (at != source && !_relays(at)) continue;   // reached, but flows do not pass through it
            foreach (var (peer, cost) in _neighbours.GetValueOrDefault(at) ?? [])
            {
                var via = new Label(here.Cost + cost, here.Hops + 1, at == source ? peer : here.FirstHop);
                if (done.Contains(peer) || (best.TryGetValue(peer, out var known) && Compare(known, via) <= 0)) continue;
                best[peer] = via;
                queue.Enqueue(peer, via);
            }
        }
        _fromRelay[source] = best;
        return best;
    }

    private static int Compare(Label x, Label y) =>
        x.Cost != y.Cost ? x.Cost.CompareTo(y.Cost)
        : x.Hops != y.Hops ? x.Hops.CompareTo(y.Hops)
        : string.CompareOrdinal(x.FirstHop, y.FirstHop);
}

/// <summary>
/// Which tables a change of links may alter. <paramref name="Everything"/>: a link between relays changed, any path
/// may differ. Otherwise only the tables of <paramref name="Sources"/> (their own links changed) and those with a next
/// hop to one of <paramref name="Destinations"/> (a relay's path to it changed).
/// </summary>
public sealed record PathsChanged(bool Everything, IReadOnlySet<string> Sources, IReadOnlySet<string> Destinations)
{
    /// <summary>Any table may differ (a new config, a link between relays).</summary>
    public static readonly PathsChanged All = new(true, new HashSet<string>(), new HashSet<string>());

    /// <summary>Both changes at once (a table held for its version number waits while more change).</summary>
    public PathsChanged And(PathsChanged other) =>
        Everything || other.Everything ? All
        : new(false, Sources.Union(other.Sources, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal),
            Destinations.Union(other.Destinations, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal));
}
