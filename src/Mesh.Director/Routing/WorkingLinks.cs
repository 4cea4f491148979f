using Mesh.Contracts.Routing;

namespace Mesh.Director.Routing;

/// <summary>
/// Pure: the links paths may use, from the links the config promises and what gateways found when they
/// tested them. A link has up to two witnesses (each end may dial it and report it). It is used when a
/// witness reports it up (at the best cost measured: the side that accepts a link sees it work but does not
/// time it), dropped when every witness reports it down, and
/// assumed up while nobody has reported on it yet (a gateway still starting), except a shortcut between two
/// edges, which is used only once a witness reports it up.
/// </summary>
public static class WorkingLinks
{
    public static IReadOnlyList<LinkEdge> From(IEnumerable<Member> gateways, IReadOnlyDictionary<string, LinkReport> reports)
    {
        // each report's links, by the pair of gateways: one pass over the reports, then one look per declared link
        var witnessed = new Dictionary<(string, string), List<LinkStatus>>();
        foreach (var (from, report) in reports)
            foreach (var status in report.Links)
            {
                var pair = Pair(from, status.Peer);
                if (!witnessed.TryGetValue(pair, out var list)) witnessed[pair] = list = [];
                list.Add(status);
            }
        var working = new List<LinkEdge>();
        foreach (var declared in Paths.Declared(gateways))
        {
            var witnesses = witnessed.GetValueOrDefault(Pair(declared.A, declared.B));
            if (witnesses is null) { if (!declared.Shortcut) working.Add(declared); }
            else if (witnesses.Where(w => w.Up).ToList() is { Count: > 0 } up)
                working.Add(declared with { Cost = up.Any(w => w.RttMs is not null) ? up.Where(w => w.RttMs is not null).Min(w => w.Cost) : 1 });
        }
        return working;
    }

    private static (string, string) Pair(string a, string b) => string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);

    /// <summary>The links paths use before any gateway has reported: every declared link but the shortcuts.</summary>
    public static IReadOnlyList<LinkEdge> Assumed(IEnumerable<Member> gateways) => From(gateways, new Dictionary<string, LinkReport>());

    /// <summary>What changed between two sets of working links, for the director's log: "core1-site-a down, core1-core2 cost 4".</summary>
    public static string Describe(IReadOnlyList<LinkEdge> before, IReadOnlyList<LinkEdge> after)
    {
        static string Key(LinkEdge e) => $"{e.A}-{e.B}";
        var old = before.ToDictionary(Key);
        var now = after.ToDictionary(Key);
        var changes = old.Keys.Where(k => !now.ContainsKey(k)).Select(k => $"{k} down")
            .Concat(now.Keys.Where(k => !old.ContainsKey(k)).Select(k => $"{k} up"))
            .Concat(now.Where(n => old.TryGetValue(n.Key, out var o) && o.Cost != n.Value.Cost).Select(n => $"{n.Key} cost {n.Value.Cost}"));
        return string.Join(", ", changes);
    }
}
