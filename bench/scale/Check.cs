using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Director.Routing;

namespace Mesh.Bench.Scale;

/// <summary>
/// --check: what any faster way of keeping the tables must still give. The tables the director holds after a
/// run of link reports, applied one by one (<see cref="Stepwise"/>), must have the next hops a computation
/// from scratch gives for the same reports; a link that goes down and comes back up must give the first
/// tables again. Stepwise is the director's incremental way, with the gateways applying deltas.
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
            ? $"check passed: {gateways} gateways, {steps} reports applied one by one, next hops equal to a computation from scratch after each " +
              $"({director.Deltas:N0} deltas applied by the gateways, {director.WholeTables:N0} whole tables)"
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
    /// The director's way (DirectorActor.OnLinkReport): the report goes into the link book; when working links
    /// changed, the table cache updates paths where the change matters and publishes a new version. Each gateway
    /// then asks with the version it holds, as RouteTableClient does, and applies the delta it gets (or takes the
    /// whole table): <see cref="Tables"/> are the tables the gateways hold, so a table the cache wrongly carried
    /// over, or a wrong delta, shows as a difference from the computation from scratch.
    /// </summary>
    private sealed class Stepwise
    {
        private readonly RouteMap _map;
        private readonly Dictionary<string, LinkReport> _reports;
        private readonly LinkBook _book;
        private readonly TableCache _cache = new();
        private readonly Dictionary<string, RouteTable> _held = [];
        private long _counter;

        public Stepwise(RouteMap map, IReadOnlyDictionary<string, LinkReport> reports)
        {
            (_map, _reports) = (map, new Dictionary<string, LinkReport>(reports));
            _book = new LinkBook(RouteTables.Members(map), _reports);
            _cache.Reset(map, _book);
            _cache.Publish(TableVersion.Of(1, 0), []);
            Fetch();
        }

        public IReadOnlyDictionary<string, LinkReport> Reports => _reports;
        public IReadOnlyDictionary<string, RouteTable> Tables => _held;
        public int Deltas { get; private set; }
        public int WholeTables { get; private set; }

        public void Apply(LinkReport report)
        {
            _reports[report.Gateway] = report;
            var changes = _book.Apply(report);
            if (changes.Count == 0) return;
            _cache.LinksChanged(changes);
            _cache.Publish(TableVersion.Of(1, ++_counter), []);
            Fetch();
        }

        private void Fetch()
        {
            foreach (var gateway in _map.Gateways.Keys)
            {
                var known = _held.TryGetValue(gateway, out var held) ? held.Version : 0;
                switch (_cache.Answer(gateway, known, deltas: true))
                {
                    case RouteTableDelta delta:
                        _held[gateway] = delta.ApplyTo(held!) ?? throw new InvalidOperationException($"a delta for {gateway} on a base it does not hold");
                        Deltas++;
                        break;
                    case RouteTable table:
                        _held[gateway] = table;
                        WholeTables++;
                        break;
                }
            }
        }
    }
}
