using CsCheck;
using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Director.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// The director keeps links, paths and tables report by report, and sends what changed (ADR 0017): each step must
/// give what a computation from scratch gives, and a gateway that applies the deltas must hold the table the
/// director would send whole.
/// </summary>
public sealed class IncrementalRoutingSpec
{
    /// <summary>Two core gateways, an edge that accepts links, three plain edges with entries and services.</summary>
    private static readonly RouteMap Map = RouteTablesSpec.Map;

    private static readonly string[] Gateways = [.. Map.Gateways.Keys];

    /// <summary>What a gateway may say of one peer in a report: down, up untimed (the accepting side), or up at 1 to 60 ms.</summary>
    private static readonly Gen<LinkStatus> Statuses =
        Gen.Int[0, Gateways.Length - 1].Select(Gen.Int[0, 2], Gen.Int[1, 60], (p, kind, rtt) =>
            new LinkStatus(Gateways[p], kind != 0, kind == 2 ? rtt : null));

    /// <summary>A run of reports, each from any gateway about a few peers (itself included: nonsense a report may hold).</summary>
    private static readonly Gen<LinkReport[]> ReportRuns =
        Gen.Int[0, Gateways.Length - 1].Select(Statuses.Array[0, 5], (g, links) => new LinkReport(Gateways[g], 1, links)).Array[1, 25];

    [Fact]
    public void A_link_book_kept_report_by_report_has_the_working_links_of_every_report_taken_at_once() =>
        ReportRuns.Sample(run =>
        {
            var members = RouteTables.Members(Map).ToList();
            var reports = new Dictionary<string, LinkReport>();
            var book = new LinkBook(members, reports);
            foreach (var report in run)
            {
                var before = book.Working();
                reports[report.Gateway] = report;
                var changes = book.Apply(report);
                var expected = WorkingLinks.From(members, reports);
                if (!book.Working().SequenceEqual(expected)) return false;
                if (LinkChange.Describe(changes) != WorkingLinks.Describe(before, expected)) return false;
            }
            return true;
        });

    /// <summary>Graphs whose links join distinct pairs once (as declared links do), and changes to them: down, up, another cost.</summary>
    private static readonly Gen<(int N, LinkEdge[] Links, int CoreBits, (int A, int B, int Cost)[] Changes)> ChangedGraphs =
        from n in Gen.Int[2, 10]
        from links in Gen.Select(Gen.Int[0, n - 1], Gen.Int[0, n - 1], Gen.Int[1, 3], (a, b, c) => (a, b, c)).Array[0, 25]
        from coreBits in Gen.Int[0, 1023]
        from changes in Gen.Select(Gen.Int[0, n - 1], Gen.Int[0, n - 1], Gen.Int[0, 3], (a, b, c) => (a, b, c)).Array[1, 4]
        select (n, Distinct(links), coreBits, changes);

    private static LinkEdge[] Distinct((int A, int B, int Cost)[] links) =>
        links.Where(l => l.A != l.B).GroupBy(l => (Math.Min(l.A, l.B), Math.Max(l.A, l.B)))
            .Select(g => new LinkEdge($"g{g.Key.Item1}", $"g{g.Key.Item2}", g.First().Cost)).ToArray();

    [Fact]
    public void Paths_updated_for_changed_links_equal_paths_from_scratch_and_every_hop_that_moved_is_flagged() =>
        ChangedGraphs.Sample(g =>
        {
            Func<string, bool> cores = name => (g.CoreBits >> int.Parse(name[1..]) & 1) == 1;
            var old = new PathIndex(g.Links, cores);
            var sources = Enumerable.Range(0, g.N).Select(i => $"g{i}").ToArray();
            var before = sources.Where((_, i) => i % 3 != 2).ToDictionary(s => s, s => old.From(s));   // some relays' paths cached, some not
            var links = g.Links.ToDictionary(l => (l.A, l.B));
            var changes = new List<LinkChange>();
            foreach (var (a, b, cost) in g.Changes.Where(c => c.A != c.B))
            {
                var key = ($"g{Math.Min(a, b)}", $"g{Math.Max(a, b)}");
                if (changes.Any(c => (c.A, c.B) == key)) continue;
                var was = links.GetValueOrDefault(key);
                var now = cost == 0 ? null : new LinkEdge(key.Item1, key.Item2, cost);
                if (was == now) continue;
                changes.Add(new LinkChange(was, now));
                if (now is null) links.Remove(key);
                else links[key] = now;
            }
            var updated = old.With(changes, out var changed);
            var fresh = new PathIndex(links.Values, cores);
            foreach (var s in sources)
            {
                var expected = fresh.From(s);
                var got = updated.From(s);
                if (expected.Count != got.Count || expected.Any(e => !got.TryGetValue(e.Key, out var v) || v != e.Value)) return false;
                if (!before.TryGetValue(s, out var then)) continue;
                foreach (var d in expected.Keys.Union(then.Keys))
                    if (then.GetValueOrDefault(d) != expected.GetValueOrDefault(d)
                        && !(changed.Everything || changed.Sources.Contains(s) || changed.Destinations.Contains(d))) return false;
            }
            return true;
        });

    /// <summary>The director's side and each gateway's, as RouteTableClient asks: by the version it holds, applying deltas.</summary>
    private sealed class Mesh
    {
        public readonly Dictionary<string, LinkReport> Reports = [];
        public readonly LinkBook Book;
        public readonly TableCache Cache = new();
        public readonly Dictionary<string, RouteTable> Held = [];
        public readonly List<IRoutingMessage> Answers = [];
        private long _counter;

        public Mesh(RouteMap map)
        {
            Book = new LinkBook(RouteTables.Members(map), Reports);
            Cache.Reset(map, Book);
            Cache.Publish(TableVersion.Of(1, 0), []);
            Fetch();
        }

        /// <param name="fetch">whether the gateways ask at once (false: they are slow, or their long polls are on the way)</param>
        public void Report(LinkReport report, IReadOnlyList<DownService>? down = null, bool fetch = true)
        {
            Reports[report.Gateway] = report;
            Cache.LinksChanged(Book.Apply(report));
            Publish(down ?? [], fetch);
        }

        public void Publish(IReadOnlyList<DownService> down, bool fetch = true)
        {
            Cache.Publish(TableVersion.Of(1, ++_counter), down);
            if (fetch) Fetch();
        }

        public void Fetch(params string[] only)
        {
            Answers.Clear();
            foreach (var g in only.Length > 0 ? only : Gateways)
            {
                var known = Held.TryGetValue(g, out var t) ? t.Version : 0;
                if (known == Cache.Version) continue;   // the director answers "unchanged" (or holds the long poll)
                var answer = Cache.Answer(g, known, deltas: true);
                Answers.Add(answer);
                Held[g] = answer switch
                {
                    RouteTableDelta d => d.ApplyTo(Held[g]) ?? throw new InvalidOperationException($"a delta for {g} on {d.BaseVersion}, which it does not hold"),
                    RouteTable table => table,
                    _ => throw new InvalidOperationException(answer.ToString()),
                };
            }
        }

        /// <summary>What the director would send whole: a table from scratch for the same reports and services down.</summary>
        public RouteTable Fresh(string gateway, IReadOnlyList<DownService> down) =>
            RouteTables.For(Map, Cache.Version, gateway, WorkingLinks.From(RouteTables.Members(Map), Reports)) with { DownServices = down };
    }

    private static void AssertSameTable(RouteTable expected, RouteTable held)
    {
        Assert.Equal(expected.Version, held.Version);
        Assert.Equal(expected.NextHops, held.NextHops);
        Assert.Equal(expected.DownServices ?? [], held.DownServices ?? []);
        Assert.Equal(expected.Entries, held.Entries);
        Assert.Equal(expected.Gateways.Select(g => g.Name), held.Gateways.Select(g => g.Name));
        Assert.Equal(expected.Services, held.Services);
    }

    [Fact]
    public void After_a_link_goes_down_every_gateway_gets_a_delta_of_what_changed_and_holds_the_table_it_would_get_whole()
    {
        var mesh = new Mesh(Map);
        Assert.All(mesh.Answers, a => Assert.IsType<RouteTable>(a));   // the first tables are whole

        mesh.Report(new LinkReport("site-b", 2, [new LinkStatus("core1", false, null), new LinkStatus("core2", true, 4)]));

        var deltas = mesh.Answers.Select(a => Assert.IsType<RouteTableDelta>(a)).ToList();
        foreach (var g in Gateways) AssertSameTable(mesh.Fresh(g, []), mesh.Held[g]);
        Assert.Equal("core2", mesh.Held["site-a"].Via("site-b"));   // site-a's path to db's owner moved off core1
        var siteA = deltas.Single(d => d.Gateway == "site-a");
        Assert.Equal(["site-b"], siteA.Hops.Select(h => h.Destination));
        Assert.Empty(deltas.Single(d => d.Gateway == "site-c").Hops);   // site-c has no entry: nothing of it changed
        Assert.True(deltas.Single(d => d.Gateway == "site-c").IsEmpty);
    }

    [Fact]
    public void A_service_going_down_travels_as_a_delta_with_the_services_down_and_no_hops()
    {
        var mesh = new Mesh(Map);
        DownService[] down = [new("db", "connection refused")];
        mesh.Publish(down);

        foreach (var d in mesh.Answers.Select(a => Assert.IsType<RouteTableDelta>(a)))
        {
            Assert.Empty(d.Hops);
            Assert.Empty(d.HopsRemoved);
            Assert.Equal(down, d.DownServices);
        }
        foreach (var g in Gateways) AssertSameTable(mesh.Fresh(g, down), mesh.Held[g]);

        mesh.Publish([]);   // back up: the list empties
        Assert.All(mesh.Answers, a => Assert.Empty(Assert.IsType<RouteTableDelta>(a).DownServices!));
        Assert.Empty(mesh.Held["site-a"].DownServices!);
    }

    [Fact]
    public void A_gateway_that_lost_its_version_or_takes_no_deltas_gets_the_whole_table_and_a_reload_sends_whole_tables()
    {
        var mesh = new Mesh(Map);
        var held = mesh.Held["site-a"].Version;
        mesh.Publish([new DownService("db", "down")]);
        mesh.Publish([]);
        Assert.IsType<RouteTable>(mesh.Cache.Answer("site-a", held, deltas: true));   // two versions behind: no base kept for it
        Assert.IsType<RouteTable>(mesh.Cache.Answer("site-a", mesh.Held["site-a"].Version - 1, deltas: false));   // an older gateway

        mesh.Cache.Reset(Map, mesh.Book);   // a reload (here the same config again): new lists, so no delta can be trusted
        var version = mesh.Cache.Version;
        mesh.Publish([]);
        Assert.All(mesh.Answers, a => Assert.IsType<RouteTable>(a));
        Assert.True(mesh.Cache.Version > version);
    }

    [Fact]
    public void A_gateway_that_missed_versions_gets_one_delta_across_them_and_tables_built_for_the_api_are_no_base()
    {
        var mesh = new Mesh(Map);
        _ = mesh.Cache.For("site-a");   // the API asks: not sent, so not what site-a holds
        mesh.Report(new LinkReport("site-b", 2, [new LinkStatus("core1", false, null), new LinkStatus("core2", true, 4)]), fetch: false);
        _ = mesh.Cache.For("site-a");
        DownService[] down = [new("db", "refused")];
        mesh.Publish(down, fetch: false);
        mesh.Report(new LinkReport("site-c", 2, [new LinkStatus("core2", false, null), new LinkStatus("core1", true, 2)]), down, fetch: false);

        mesh.Fetch("site-a", "core1", "site-c");   // three versions later
        Assert.All(mesh.Answers, a => Assert.IsType<RouteTableDelta>(a));
        foreach (var g in new[] { "site-a", "core1", "site-c" }) AssertSameTable(mesh.Fresh(g, down), mesh.Held[g]);
    }

    [Fact]
    public void Requests_that_crossed_from_one_version_each_get_the_delta_whichever_answer_arrives_first()
    {
        // a gateway's long poll and a fetch after a report's acknowledgement both ask from the table it holds, and
        // their answers travel apart: the second answered may arrive first, so it must be the delta too, not whole
        var mesh = new Mesh(Map);
        var held = mesh.Held["site-a"];
        DownService[] down = [new("db", "refused")];
        mesh.Publish(down, fetch: false);
        var first = Assert.IsType<RouteTableDelta>(mesh.Cache.Answer("site-a", held.Version, deltas: true));
        var second = Assert.IsType<RouteTableDelta>(mesh.Cache.Answer("site-a", held.Version, deltas: true));
        AssertSameTable(mesh.Fresh("site-a", down), second.ApplyTo(held)!);

        mesh.Held["site-a"] = first.ApplyTo(held)!;   // the next change is a delta from the table it holds now
        mesh.Publish([], fetch: false);
        Assert.IsType<RouteTableDelta>(mesh.Cache.Answer("site-a", mesh.Held["site-a"].Version, deltas: true));
    }

    [Fact]
    public void Tables_asked_for_while_a_version_waits_to_be_published_stay_right_after_it()
    {
        // the director's held window: links change, a gateway asks before the new version is out (its table is built
        // from the newer paths under the old number), then the version is published and it asks again
        var mesh = new Mesh(Map);
        mesh.Reports["site-b"] = new LinkReport("site-b", 2, [new LinkStatus("core1", false, null), new LinkStatus("core2", true, 4)]);
        mesh.Cache.LinksChanged(mesh.Book.Apply(mesh.Reports["site-b"]));
        _ = mesh.Cache.For("site-a");   // the API, or a gateway whose answer is lost
        mesh.Fetch("core1");   // nothing: core1 holds this version already
        mesh.Publish([]);
        foreach (var g in Gateways) AssertSameTable(mesh.Fresh(g, []), mesh.Held[g]);
    }

    [Fact]
    public void A_delta_applies_only_to_its_base()
    {
        var table = RouteTables.For(Map, TableVersion.Of(1, 3), "site-a");
        var next = table with { Version = TableVersion.Of(1, 4), NextHops = [new NextHop("site-b", "core3") { Cost = 2 }] };
        var delta = RouteTableDelta.Between(table, next)!;
        Assert.Null(delta.ApplyTo(table with { Version = TableVersion.Of(1, 2) }));
        // the same number, other hops: what another director may have numbered alike (ADR 0013's limits)
        Assert.Null(delta.ApplyTo(table with { NextHops = [new NextHop("site-b", "core1") { Cost = 9 }] }));
        Assert.Equal(next.NextHops, delta.ApplyTo(table)!.NextHops);
        Assert.Null(RouteTableDelta.Between(table, table with { Entries = [.. table.Entries] }));   // entries changed (by reference): whole table
    }
}
