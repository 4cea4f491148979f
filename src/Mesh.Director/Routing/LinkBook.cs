using Mesh.Contracts.Routing;

namespace Mesh.Director.Routing;

/// <summary>A working link that changed: up (Before null), down (After null) or at another cost.</summary>
public sealed record LinkChange(LinkEdge? Before, LinkEdge? After)
{
    public string A => (Before ?? After)!.A;
    public string B => (Before ?? After)!.B;

    /// <summary>The director's log: "core1-site-a down, core2-site-a cost 3" (downs, then ups, then costs, as <see cref="WorkingLinks.Describe"/>).</summary>
    public static string Describe(IEnumerable<LinkChange> changes)
    {
        var list = changes.ToList();
        return string.Join(", ", list.Where(c => c.After is null).Select(c => $"{c.A}-{c.B} down")
            .Concat(list.Where(c => c.Before is null).Select(c => $"{c.A}-{c.B} up"))
            .Concat(list.Where(c => c is { Before: not null, After: { } a }).Select(c => $"{c.A}-{c.B} cost {c.After!.Cost}")));
    }
}

/// <summary>
/// Pure, kept report by report: the working links of one config (the rule of <see cref="WorkingLinks"/>, which
/// recomputes them from every report). A report changes only the links of its sender, so it costs a look at
/// each declared link of that gateway (two lookups each), not a pass over every report: ~0.1 ms for a core
/// gateway with 1,000 links where <see cref="WorkingLinks.From"/> takes ~40 ms. Build a new book for a new config.
/// </summary>
public sealed class LinkBook
{
    private readonly Dictionary<string, List<LinkEdge>> _declaredAt = new(StringComparer.Ordinal);
    private readonly List<LinkEdge> _declared;
    /// <summary>What each gateway's last report says of each peer (a report may name a peer twice: both count, as in WorkingLinks).</summary>
    private readonly Dictionary<string, ILookup<string, LinkStatus>> _said = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), LinkEdge> _working = [];
    private IReadOnlyList<LinkEdge>? _list;

    public LinkBook(IEnumerable<Member> gateways, IReadOnlyDictionary<string, LinkReport> reports)
    {
        _declared = Paths.Declared(gateways).ToList();
        foreach (var link in _declared)
        {
            At(link.A).Add(link);
            At(link.B).Add(link);
        }
        foreach (var (gateway, report) in reports) _said[gateway] = Index(report);
        foreach (var link in _declared)
            if (Working(link) is { } w) _working[(link.A, link.B)] = w;
    }

    /// <summary>The working links, in the order of <see cref="Paths.Declared"/> (as <see cref="WorkingLinks.From"/> lists them).</summary>
    public IReadOnlyList<LinkEdge> Working() =>
        _list ??= _declared.Where(d => _working.ContainsKey((d.A, d.B))).Select(d => _working[(d.A, d.B)]).ToArray();

    /// <summary>Takes <paramref name="report"/> as its sender's latest; returns the working links that changed.</summary>
    public IReadOnlyList<LinkChange> Apply(LinkReport report)
    {
        _said[report.Gateway] = Index(report);
        var changes = new List<LinkChange>();
        foreach (var link in _declaredAt.GetValueOrDefault(report.Gateway) ?? [])
        {
            var key = (link.A, link.B);
            var before = _working.GetValueOrDefault(key);
            var after = Working(link);
            if (before == after) continue;
            if (after is null) _working.Remove(key);
            else _working[key] = after;
            changes.Add(new LinkChange(before, after));
        }
        if (changes.Count > 0) _list = null;
        return changes;
    }

    /// <summary>The rule of <see cref="WorkingLinks.From"/> for one declared link, from what both ends said of it (a core gateway's report walks ~1,000: no LINQ).</summary>
    private LinkEdge? Working(LinkEdge declared)
    {
        var (witnessed, up, timedCost) = (false, false, int.MaxValue);
        foreach (var w in Said(declared.A, declared.B).Concat(Said(declared.B, declared.A)))
        {
            witnessed = true;
            if (!w.Up) continue;
            up = true;
            if (w.RttMs is not null && w.Cost < timedCost) timedCost = w.Cost;
        }
        if (!witnessed) return declared.Shortcut ? null : declared;
        if (!up) return null;
        return declared with { Cost = timedCost == int.MaxValue ? 1 : timedCost };
    }

    private IEnumerable<LinkStatus> Said(string gateway, string peer) =>
        _said.TryGetValue(gateway, out var said) ? said[peer] : [];

    private static ILookup<string, LinkStatus> Index(LinkReport report) => report.Links.ToLookup(l => l.Peer, StringComparer.Ordinal);

    private List<LinkEdge> At(string gateway)
    {
        if (!_declaredAt.TryGetValue(gateway, out var list)) _declaredAt[gateway] = list = [];
        return list;
    }
}
