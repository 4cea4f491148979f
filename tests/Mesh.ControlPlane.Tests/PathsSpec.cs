using CsCheck;
using Mesh.Director.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>Path computation on its own: what a gateway forwarding hop by hop relies on.</summary>
public sealed class PathsSpec
{
    /// <summary>A random link graph over gateways g0..g(n-1), with positive costs.</summary>
    private static readonly Gen<(int N, LinkEdge[] Links)> Graphs =
        from n in Gen.Int[2, 12]
        from links in Gen.Select(Gen.Int[0, n - 1], Gen.Int[0, n - 1], Gen.Int[1, 50], (a, b, c) => new LinkEdge($"g{a}", $"g{b}", c)).Array[0, 30]
        select (n, links);

    /// <summary>Costs of 1 to 3: many paths tie, so the tie-breaks are what is tested.</summary>
    private static readonly Gen<(int N, LinkEdge[] Links)> TieGraphs =
        from n in Gen.Int[2, 12]
        from links in Gen.Select(Gen.Int[0, n - 1], Gen.Int[0, n - 1], Gen.Int[1, 3], (a, b, c) => new LinkEdge($"g{a}", $"g{b}", c)).Array[0, 30]
        select (n, links);

    private static HashSet<string> Reachable(string from, LinkEdge[] links)
    {
        var seen = new HashSet<string> { from };
        var frontier = new Queue<string>([from]);
        while (frontier.TryDequeue(out var at))
            foreach (var l in links)
                foreach (var next in l.A == at ? [l.B] : l.B == at ? new[] { l.A } : [])
                    if (seen.Add(next)) frontier.Enqueue(next);
        return seen;
    }

    [Fact]
    public void A_path_is_found_exactly_when_the_links_connect_the_two_gateways() =>
        Graphs.Sample(g =>
        {
            for (var s = 0; s < g.N; s++)
            {
                var hops = Paths.NextHops($"g{s}", g.Links);
                var reachable = Reachable($"g{s}", g.Links);
                for (var d = 0; d < g.N; d++)
                    if (d != s && hops.ContainsKey($"g{d}") != reachable.Contains($"g{d}")) return false;
            }
            return true;
        });

    [Fact]
    public void Following_next_hops_gateway_by_gateway_reaches_the_destination_without_a_loop() =>
        Graphs.Sample(g =>
        {
            var tables = Enumerable.Range(0, g.N).ToDictionary(i => $"g{i}", i => Paths.NextHops($"g{i}", g.Links));
            foreach (var (source, table) in tables)
                foreach (var destination in table.Keys)
                {
                    var (at, steps) = (source, 0);
                    while (at != destination)
                    {
                        var next = tables[at][destination];
                        Assert.Contains(g.Links, l => (l.A == at && l.B == next) || (l.B == at && l.A == next));   // only over real links
                        at = next;
                        if (++steps >= g.N) return false;   // visited more gateways than exist: a loop
                    }
                }
            return true;
        });

    [Fact]
    public void The_cheapest_path_wins_and_a_direct_link_is_used_when_it_is_cheapest()
    {
        LinkEdge[] links = [new("a", "b", 10), new("a", "c", 1), new("c", "b", 1), new("b", "d", 1)];
        var hops = Paths.NextHops("a", links);
        Assert.Equal("c", hops["b"]);   // 2 via c beats 10 direct
        Assert.Equal("c", hops["d"]);
        Assert.Equal("b", Paths.NextHops("a", [new("a", "b", 1), new("a", "c", 1), new("c", "b", 1)])["b"]);
    }

    [Fact]
    public void Without_link_tests_every_gateway_links_to_every_core_and_two_edges_meet_through_a_core()
    {
        var declared = Paths.Declared([new("core1", true, true), new("core2", true, true), new("edge1", false, false), new("edge2", false, false)]).ToArray();
        Assert.DoesNotContain(declared, l => l.A.StartsWith("edge") && l.B.StartsWith("edge"));
        Assert.Equal(5, declared.Length);   // core1-core2, and each edge with each core
        var fromEdge1 = Paths.NextHops("edge1", declared);
        Assert.Equal("core1", fromEdge1["edge2"]);   // equal paths: the first core by name, the same on every director
        Assert.Equal("core2", fromEdge1["core2"]);
    }

    [Fact]
    public void Edges_that_accept_links_have_a_shortcut_between_them_and_paths_never_pass_through_an_edge()
    {
        Member[] mesh = [new("core1", true, true), new("lan-1", false, true), new("lan-2", false, true), new("site-c", false, false)];
        var declared = Paths.Declared(mesh).ToArray();
        Assert.Equal("core1-lan-1 core1-lan-2 core1-site-c lan-1-lan-2 lan-1-site-c lan-2-site-c",
            string.Join(" ", declared.Select(l => $"{l.A}-{l.B}")));   // an edge without links dials those with links
        Assert.All(declared, l => Assert.Equal(!l.A.StartsWith("core") && !l.B.StartsWith("core"), l.Shortcut));

        Func<string, bool> cores = g => g.StartsWith("core");
        var hops = Paths.Costs("lan-1", declared, cores);
        Assert.Equal(("lan-2", 1.0), hops["lan-2"]);   // direct beats the relay (2)
        // with only site-c - lan-2 and lan-1 - site-c working, lan-1 reaches lan-2 through core1, never through the edge site-c
        LinkEdge[] noShortcut = [new("core1", "lan-1", 5), new("core1", "lan-2", 5), new("lan-1", "site-c"), new("lan-2", "site-c")];
        Assert.Equal("site-c", Paths.NextHops("lan-1", noShortcut)["lan-2"]);   // cheaper (2 < 10), were edges relays
        Assert.Equal(("core1", 10.0), Paths.Costs("lan-1", noShortcut, cores)["lan-2"]);
        Assert.DoesNotContain("lan-2", Paths.Costs("lan-1", [new("lan-1", "site-c"), new("lan-2", "site-c")], cores).Keys);   // an edge is no relay even when it is the only way
    }

    /// <summary>The reference: one Dijkstra from the source over (cost, hops, first hop), expanding only relays and the source.</summary>
    private static Dictionary<string, (string Via, double Cost)> OneDijkstra(string source, LinkEdge[] links, Func<string, bool> relays)
    {
        var best = new Dictionary<string, (double Cost, int Hops, string First)> { [source] = (0, 0, "") };
        var done = new HashSet<string>();
        while (best.Where(b => !done.Contains(b.Key)).OrderBy(b => b.Value.Cost).ThenBy(b => b.Value.Hops).ThenBy(b => b.Value.First, StringComparer.Ordinal)
                   .Select(b => b.Key).FirstOrDefault() is { } at)
        {
            done.Add(at);
            if (at != source && !relays(at)) continue;
            var here = best[at];
            foreach (var l in links.Where(l => l.A != l.B && (l.A == at || l.B == at)))
            {
                var peer = l.A == at ? l.B : l.A;
                var via = (here.Cost + l.Cost, here.Hops + 1, at == source ? peer : here.First);
                if (done.Contains(peer)) continue;
                if (!best.TryGetValue(peer, out var known) || (via.Item1, via.Item2).CompareTo((known.Cost, known.Hops)) < 0
                    || ((via.Item1, via.Item2) == (known.Cost, known.Hops) && string.CompareOrdinal(via.Item3, known.First) < 0))
                    best[peer] = via;
            }
        }
        return best.Where(b => b.Key != source).ToDictionary(b => b.Key, b => (b.Value.First, b.Value.Cost));
    }

    [Fact]
    public void Paths_from_many_sources_over_one_index_equal_one_dijkstra_from_each_with_only_cores_relaying() =>
        TieGraphs.Select(Gen.Int[0, 4095]).Sample((g, coreBits) =>
        {
            Func<string, bool> cores = name => (coreBits >> int.Parse(name[1..]) & 1) == 1;
            var index = new PathIndex(g.Links, cores);   // shared by every source, as the director's is
            for (var s = 0; s < g.N; s++)
            {
                var expected = OneDijkstra($"g{s}", g.Links, cores);
                var got = index.From($"g{s}");
                if (expected.Count != got.Count || expected.Any(e => !got.TryGetValue(e.Key, out var v) || v != e.Value)) return false;
                var some = expected.Keys.Where((_, i) => i % 2 == 0).ToArray();   // asking for a few destinations gives the same for those
                if (!index.From($"g{s}", some).OrderBy(h => h.Key).SequenceEqual(some.Order().Select(d => new KeyValuePair<string, (string, double)>(d, expected[d])))) return false;
            }
            return true;
        });
}
