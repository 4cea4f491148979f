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
    public static IReadOnlyDictionary<string, (string Via, double Cost)> Costs(string source, IEnumerable<LinkEdge> links, Func<string, bool>? mayRelay = null) =>
        new PathIndex(links, mayRelay).From(source);

    /// <summary>
    /// The links a mesh config promises before any test: every gateway dials every gateway that declares
    /// link addresses (an edge without any only dials out), so each pair where one side accepts links is a
    /// link. One between two edges is a <see cref="LinkEdge.Shortcut"/>.
    /// </summary>
    /// <remarks>Each gateway that accepts links (a few) is paired with every other: not every pair of gateways is looked at.</remarks>
    public static IEnumerable<LinkEdge> Declared(IEnumerable<Member> gateways)
    {
        var all = gateways.ToList();
        var links = new List<LinkEdge>();
        foreach (var a in all.Where(g => g.AcceptsLinks || g.IsCore))
            foreach (var b in all)
            {
                var bAccepts = b.AcceptsLinks || b.IsCore;
                if (a.Name == b.Name || (bAccepts && string.CompareOrdinal(b.Name, a.Name) < 0)) continue;   // a pair of two accepting ones once
                var (x, y) = string.CompareOrdinal(a.Name, b.Name) < 0 ? (a.Name, b.Name) : (b.Name, a.Name);
                links.Add(new LinkEdge(x, y) { Shortcut = !a.IsCore && !b.IsCore });
            }
        links.Sort((p, q) => string.CompareOrdinal(p.A, q.A) is var c and not 0 ? c : string.CompareOrdinal(p.B, q.B));
        return links;
    }
}
