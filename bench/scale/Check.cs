using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Director.Routing;

namespace Mesh.Bench.Scale;

/// <summary>
/// --check: what any faster way of keeping the tables must still give. The tables the director holds after a
/// run of link reports, applied one by one (<see cref="Stepwise"/>), must have the next hops a computation
/// from scratch gives for the same reports; a link that goes down and comes back up must give the first
/// tables again. Today both sides are the same full computation; an incremental director replaces Stepwise.
/// </summary>
public static class Check
{
    public static int Run(int gateways, TextWriter log)
    {
        var mesh = new SyntheticMesh(gateways);
        var map = RouteMapLoader.Load(mesh.ConfigText(), "scale.toml").Map ?? throw new InvalidOperationException("the generated config is invalid");
        var reports = mesh.Reports();
        var failures = new List<string>();
        var original = Fresh(map, reports);
        Same("computed twice from scratch", original, Fresh(map, reports), failures);

        var director = new Stepwise(map, reports);
        var edge = mesh.Edges[0];
        var core = SyntheticMesh.CheapestCore(reports[edge]);
        director.Apply(SyntheticMesh.WithLink(director.Reports[edge], core, up: false));
        Same($"{core}-{edge} down, applied as a report", Fresh(map, director.Reports), director.Tables, failures);
        if (!director.Tables[edge].NextHops.SequenceEqual(original[edge].NextHops))
            log.WriteLine($"  {edge}'s next hops changed with its link to {core} down, as they must");
        else failures.Add($"{edge}'s next hops did not change with its link to {core} down: the check proves nothing");
        director.Apply(SyntheticMesh.WithLink(director.Reports[edge], core, up: true));
        Same($"{core}-{edge} back up, against the first tables", original, director.Tables, failures);

        // a seeded walk: links down and up, costs changing, reports sent again unchanged
        var rng = new Random(7);
        const int steps = 200;
        for (var step = 0; step < steps && failures.Count == 0; step++)
        {
            var report = director.Reports[mesh.All[rng.Next(mesh.All.Count)]];
            var link = report.Links[rng.Next(report.Links.Count)];
            var next = rng.Next(3) switch
            {
                0 => SyntheticMesh.WithLink(report, link.Peer, up: !link.Up),
                1 => report with
                {
                    Sequence = report.Sequence + 1,
                    Links = report.Links.Select(l => l.Peer == link.Peer ? l with { RttMs = Math.Round(1 + rng.NextDouble() * 39, 1) } : l).ToArray(),
                },
                _ => report with { Sequence = report.Sequence + 1 },
            };
            director.Apply(next);
            Same($"step {step + 1} ({next.Gateway} on {link.Peer})", Fresh(map, director.Reports), director.Tables, failures);
        }

        foreach (var f in failures.Take(10)) log.WriteLine($"  MISMATCH: {f}");
        if (failures.Count > 10) log.WriteLine($"  ... and {failures.Count - 10} more");
        log.WriteLine(failures.Count == 0
            ? $"check passed: {gateways} gateways, {steps} reports applied one by one, next hops equal to a computation from scratch after each"
            : $"check FAILED: {failures.Count} mismatch(es)");
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>Every table from nothing but the config and the reports.</summary>
    private static Dictionary<string, RouteTable> Fresh(RouteMap map, IReadOnlyDictionary<string, LinkReport> reports)
    {
        var links = WorkingLinks.From(RouteTables.Members(map), reports);
        return map.Gateways.Keys.ToDictionary(g => g, g => RouteTables.For(map, 1, g, links));   // a builder per table: nothing shared
    }

    private static void Same(string what, Dictionary<string, RouteTable> expected, IReadOnlyDictionary<string, RouteTable> actual, List<string> failures)
    {
        foreach (var (gateway, table) in expected)
            if (!actual.TryGetValue(gateway, out var got)) failures.Add($"{what}: no table for {gateway}");
            else if (!got.NextHops.SequenceEqual(table.NextHops))
                failures.Add($"{what}: {gateway}'s next hops differ (destination: expected, got): {Differences(table, got)}");
    }

    private static string Differences(RouteTable expected, RouteTable got)
    {
        static string Hop(NextHop? h) => h is null ? "none" : $"via {h.Via} cost {h.Cost}";
        var destinations = expected.NextHops.Select(h => h.Destination).Union(got.NextHops.Select(h => h.Destination)).Order(StringComparer.Ordinal);
        var differ = destinations.Select(d => (d, e: expected.NextHops.FirstOrDefault(h => h.Destination == d), g: got.NextHops.FirstOrDefault(h => h.Destination == d)))
            .Where(x => x.e != x.g).Select(x => $"{x.d}: {Hop(x.e)}, {Hop(x.g)}").ToList();
        return differ.Count == 0 ? "the same hops in another order" : string.Join("; ", differ.Take(3)) + (differ.Count > 3 ? $"; {differ.Count - 3} more" : "");
    }

    /// <summary>
    /// The director's way (DirectorActor.OnLinkReport): keep the report; unless its links are the same as the last
    /// one's, derive the working links again, and build every table again (one builder) only when they changed.
    /// </summary>
    private sealed class Stepwise(RouteMap map, IReadOnlyDictionary<string, LinkReport> reports)
    {
        private readonly Dictionary<string, LinkReport> _reports = new(reports);
        private IReadOnlyList<LinkEdge> _links = WorkingLinks.From(RouteTables.Members(map), reports);
        private Dictionary<string, RouteTable>? _tables;

        public IReadOnlyDictionary<string, LinkReport> Reports => _reports;

        public IReadOnlyDictionary<string, RouteTable> Tables => _tables ??= Built();

        private Dictionary<string, RouteTable> Built()
        {
            var builder = new RouteTables.Builder(map, _links);
            return map.Gateways.Keys.ToDictionary(g => g, g => builder.For(1, g));
        }

        public void Apply(LinkReport report)
        {
            var same = _reports.TryGetValue(report.Gateway, out var applied) && report.SameLinksAs(applied);
            _reports[report.Gateway] = report;
            if (same) return;   // as the director: nothing paths use changed
            var links = WorkingLinks.From(RouteTables.Members(map), _reports);
            if (WorkingLinks.Describe(_links, links).Length == 0) return;
            _links = links;
            _tables = null;
        }
    }
}
