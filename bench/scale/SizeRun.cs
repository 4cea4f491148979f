using System.Diagnostics;
using Akka.Actor;
using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Director.Routing;
using Mesh.Node.Serialization;

namespace Mesh.Bench.Scale;

/// <summary>What one size cost. Estimated: the tables were not all built (a sample was, and scaled to every gateway).</summary>
public sealed record Figures(int Gateways, int Services, int Entries, long ConfigBytes, Cost Load, Cost WorkingLinks, int Links,
    Cost Tables, Cost LinkDown, int? TablesChanged, Cost RoutineReport, long BiggestTableBytes, string BiggestGateway,
    long AllTablesBytes, Cost Serialize, long TablesMemoryBytes, bool Estimated, string LoadBefore, string LoadAfter, double Seconds)
{
    /// <summary>The biggest table of an edge that does not relay (core gateways get every gateway and service: they relay).</summary>
    public long BiggestEdgeTableBytes { get; init; }
    public string BiggestEdge { get; init; } = "";
    /// <summary>The biggest delta a gateway got after the link went down (null: estimated, not measured).</summary>
    public long? BiggestDeltaBytes { get; init; }
    public string BiggestDelta { get; init; } = "";
    /// <summary>A link between two core gateways 100 ms slower: every path and table again, the config's lists kept.</summary>
    public Cost? CoreLinkChange { get; init; }
    public int? CoreLinkTablesChanged { get; init; }
}

/// <summary>Runs and budget: how many timed runs per figure, and how long all the table work of one size may take before it is estimated.</summary>
public sealed record RunSettings(int? Runs, double BudgetSeconds, double MaxTableSeconds, int Sample);

/// <summary>
/// Measures one size, single-threaded, as the director does the work: load the config, derive the working links
/// from every gateway's report, build every gateway's table, and redo both when a changed report comes in.
/// </summary>
public sealed class SizeRun(SyntheticMesh mesh, RunSettings settings, MeshSerializer serializer, TextWriter log)
{
    private static readonly long Version = TableVersion.Of(1, 0);

    private int Runs => settings.Runs ?? (mesh.Gateways <= 100 ? 7 : mesh.Gateways <= 1000 ? 3 : 1);

    public Figures Measure()
    {
        var clock = Stopwatch.StartNew();
        var loadBefore = Timing.Load();
        var text = mesh.ConfigText();
        RouteMap map = null!;
        var load = Timing.Median(Runs, () => map = LoadOrThrow(text));
        log.WriteLine($"  {mesh.Gateways} gateways: config of {text.Length:N0} bytes loaded in {load.WallMs:N1} ms ({load.CpuMs:N1} ms CPU)");

        var reports = mesh.Reports();
        IReadOnlyList<LinkEdge> links = [];
        var linksCost = Timing.Median(Runs, () => links = WorkingLinks.From(RouteTables.Members(map), reports));
        var routine = RoutineReport(map, reports, links);
        log.WriteLine($"  working links: {links.Count:N0} in {linksCost.WallMs:N1} ms; an unchanged report {routine.WallMs:N2} ms");

        var sample = Sample();
        var (perTable, slowestMs, sampleTables, sampleMemory) = TimeSample(map, links, sample);
        var estimate = perTable * mesh.Gateways;
        var planned = estimate.WallMs * (2 * Runs + 2) / 1000;   // memory run, timed runs, link down runs, serialization
        log.WriteLine($"  sample of {sample.Count} tables: {perTable.WallMs:N1} ms each ({perTable.CpuMs:N1} ms CPU; slowest {slowestMs:N1}), " +
                      $"all tables ~{estimate.WallMs / 1000:N1} s");

        Figures figures;
        if (slowestMs > settings.MaxTableSeconds * 1000 || planned > settings.BudgetSeconds)
        {
            log.WriteLine($"  estimated, not built: the table work would take ~{planned:N0} s (budget {settings.BudgetSeconds:N0} s, " +
                          $"a table at most {settings.MaxTableSeconds:N0} s)");
            var bytes = sampleTables.Select(t => serializer.ToBinary(t).LongLength).ToArray();
            var serialize = Timing.Median(Runs, () => Serialize(sampleTables)) * ((double)mesh.Gateways / sample.Count);
            var biggest = bytes.Select((b, i) => (b, i)).Max();
            var biggestEdge = bytes.Select((b, i) => (b, i)).Where(x => !mesh.Cores.Contains(sample[x.i])).DefaultIfEmpty().Max();
            figures = new(mesh.Gateways, mesh.Services, mesh.Entries, text.Length, load, linksCost, links.Count, estimate,
                linksCost * 2 + estimate, null, routine, biggest.b, sample[biggest.i], (long)(bytes.Average() * mesh.Gateways),
                serialize, sampleMemory / sample.Count * mesh.Gateways, true, loadBefore, "", 0)
                { BiggestEdgeTableBytes = biggestEdge.b, BiggestEdge = sample[biggestEdge.i] };
        }
        else figures = Full(map, reports, links, text.Length, load, linksCost, routine, loadBefore);
        return figures with { LoadAfter = Timing.Load(), Seconds = clock.Elapsed.TotalSeconds };
    }

    private Figures Full(RouteMap map, Dictionary<string, LinkReport> reports, IReadOnlyList<LinkEdge> links, long configBytes,
        Cost load, Cost linksCost, Cost routine, string loadBefore)
    {
        var (held, memory) = Timing.Retained(() => AllTables(map, links));   // the director caches every table it built
        var tables = Timing.Median(Runs, () => AllTables(map, links), warmUp: false);
        log.WriteLine($"  all tables: {tables.WallMs:N0} ms ({tables.CpuMs:N0} ms CPU), holding {memory / 1048576.0:N1} MiB");

        long biggest = 0, biggestEdge = 0, all = 0;
        var (biggestGateway, biggestEdgeName) = ("", "");
        var cores = mesh.Cores.ToHashSet();
        foreach (var t in held)
        {
            var size = serializer.ToBinary(t).LongLength;
            all += size;
            if (size > biggest) (biggest, biggestGateway) = (size, t.Gateway);
            if (!cores.Contains(t.Gateway) && size > biggestEdge) (biggestEdge, biggestEdgeName) = (size, t.Gateway);
        }
        var serialize = Timing.Median(Runs, () => Serialize(held));

        // one core-edge link down, as the director does it: the edge reports it and the core sends its routine
        // report, each into the link book; paths are updated where the change matters, a new version is published,
        // and every gateway asks with the version it holds (RouteTableClient) and gets its delta
        var edge = mesh.Edges[0];
        var core = SyntheticMesh.CheapestCore(reports[edge]);
        var down = SyntheticMesh.WithLink(reports[edge], core, up: false);
        var coreAgain = reports[core] with { Sequence = reports[core].Sequence + 1 };
        var (linkDown, answers) = DirectorChange(map, reports, [down, coreAgain]);
        var deltas = answers.OfType<RouteTableDelta>().ToArray();
        if (deltas.Length != answers.Length) throw new InvalidOperationException($"{answers.Length - deltas.Length} gateways got a whole table after a link change");
        var changed = deltas.Count(d => !d.IsEmpty);
        var (biggestDelta, biggestDeltaGateway) = deltas.Select(d => (serializer.ToBinary(d).LongLength, d.Gateway)).Max();
        log.WriteLine($"  link {core}-{edge} down: {linkDown.WallMs:N1} ms ({linkDown.CpuMs:N1} ms CPU), {changed} of {held.Length} tables changed; " +
                      $"biggest delta {biggestDelta:N0} bytes ({biggestDeltaGateway})");
        answers = [];

        // a link between two core gateways changes cost: any path may move, so every relay's paths are computed
        // again and every table built again from the config's lists the director keeps (the full recomputation
        // of paths; a reload also builds those lists, see "all tables")
        var core1 = mesh.Cores[0];
        var core2 = SyntheticMesh.CheapestCore(reports[core1] with { Links = reports[core1].Links.Where(l => mesh.Cores.Contains(l.Peer)).ToArray() });
        LinkReport Slower(string from, string to) => reports[from] with
        {
            Sequence = reports[from].Sequence + 1,
            Links = reports[from].Links.Select(l => l.Peer == to ? l with { RttMs = (l.RttMs ?? 1) + 100 } : l).ToArray(),
        };
        var (coreLink, coreAnswers) = DirectorChange(map, reports, [Slower(core1, core2), Slower(core2, core1)]);   // both ends time it
        var coreChanged = coreAnswers.Count(a => a is RouteTableDelta { IsEmpty: false });
        log.WriteLine($"  link {core1}-{core2} 100 ms slower: {coreLink.WallMs:N1} ms ({coreLink.CpuMs:N1} ms CPU), {coreChanged} of {held.Length} tables changed");

        return new Figures(mesh.Gateways, mesh.Services, mesh.Entries, configBytes, load, linksCost, links.Count, tables, linkDown, changed,
            routine, biggest, biggestGateway, all, serialize, memory, false, loadBefore, "", 0)
            {
                BiggestEdgeTableBytes = biggestEdge, BiggestEdge = biggestEdgeName, BiggestDeltaBytes = biggestDelta, BiggestDelta = biggestDeltaGateway,
                CoreLinkChange = coreLink, CoreLinkTablesChanged = coreChanged,
            };
    }

    /// <summary>
    /// Reports arriving at the director, as it handles them, every gateway holding the first version: each report
    /// into the link book unless it says the same as the last (acknowledged at once), paths updated where a change
    /// matters, a new version, and every gateway's answer to a request with the version it holds (its delta).
    /// </summary>
    private (Cost Cost, IRoutingMessage[] Answers) DirectorChange(RouteMap map, Dictionary<string, LinkReport> reports, LinkReport[] arriving)
    {
        var members = RouteTables.Members(map).ToList();
        LinkBook book = null!;
        TableCache cache = null!;
        IRoutingMessage[] answers = [];
        var current = new Dictionary<string, LinkReport>(reports);
        var cost = Timing.Median(Runs, () =>
        {
            foreach (var report in arriving)
            {
                var applied = current[report.Gateway];
                current[report.Gateway] = report;
                if (report.SameLinksAs(applied)) continue;
                if (book.Apply(report) is { Count: > 0 } changes) cache.LinksChanged(changes);
            }
            cache.Publish(Version + 1, []);
            answers = mesh.All.Select(g => cache.Answer(g, Version, deltas: true)).ToArray();
        }, setup: () =>
        {
            answers = [];
            current = new Dictionary<string, LinkReport>(reports);
            book = new LinkBook(members, reports);
            cache = new TableCache();
            cache.Reset(map, book);
            cache.Publish(Version, []);
            foreach (var g in mesh.All) _ = cache.Answer(g, 0, deltas: true);   // every gateway holds the first version, as sent
        });   // warmed up: a director has run its code before (tiered JIT)
        return (cost, answers);
    }

    /// <summary>
    /// A gateway sends its report again, nothing changed: what the director does (DirectorActor.OnLinkReport): the
    /// report is compared with the last one from that gateway, and only a changed one derives the working links again.
    /// </summary>
    private Cost RoutineReport(RouteMap map, Dictionary<string, LinkReport> reports, IReadOnlyList<LinkEdge> links)
    {
        var edge = mesh.Edges[^1];
        var applied = reports[edge];
        var again = applied with { Sequence = applied.Sequence + 1 };
        var current = new Dictionary<string, LinkReport>(reports);
        var changes = "";
        var cost = Timing.Median(Math.Max(5, 3 * Runs), () =>
        {
            current[edge] = again;
            if (!again.SameLinksAs(applied)) changes = WorkingLinks.Describe(links, WorkingLinks.From(RouteTables.Members(map), current));
        });
        if (changes.Length > 0) throw new InvalidOperationException($"an unchanged report changed the working links: {changes}");
        return cost;
    }

    /// <summary>As the director builds them: one builder per map and links (shared lists, one path index), a table per gateway.</summary>
    private RouteTable[] AllTables(RouteMap map, IReadOnlyList<LinkEdge> links)
    {
        var builder = new RouteTables.Builder(map, links);
        return mesh.All.Select(g => builder.For(Version, g)).ToArray();
    }

    private long Serialize(IEnumerable<RouteTable> tables)
    {
        long bytes = 0;
        foreach (var t in tables) bytes += serializer.ToBinary(t).LongLength;
        return bytes;
    }

    /// <summary>Up to a few core gateways and edges spread over the list: the tables an estimate scales from.</summary>
    private List<string> Sample()
    {
        var edges = Math.Min(mesh.Edges.Count, Math.Max(1, settings.Sample - 3));
        return [.. mesh.Cores.Take(Math.Min(3, settings.Sample - 1)),
            .. Enumerable.Range(0, edges).Select(i => mesh.Edges[i * mesh.Edges.Count / edges])];
    }

    private static (Cost PerTable, double SlowestMs, RouteTable[] Tables, long Memory) TimeSample(RouteMap map, IReadOnlyList<LinkEdge> links,
        List<string> sample)
    {
        _ = RouteTables.For(map, Version, sample[0], links);   // JIT
        RouteTables.Builder builder = null!;
        var shared = Timing.Once(() => builder = new RouteTables.Builder(map, links));   // once for all tables: spread over them below
        var times = new List<Cost>();
        var (tables, memory) = Timing.Retained(() => sample.Select(g =>
        {
            RouteTable t = null!;
            times.Add(Timing.Once(() => t = builder.For(Version, g)));
            return t;
        }).ToArray());
        var perTable = new Cost(times.Average(c => c.WallMs) + shared.WallMs / sample.Count, times.Average(c => c.CpuMs) + shared.CpuMs / sample.Count);
        return (perTable, times.Max(c => c.WallMs), tables, memory);
    }

    private static RouteMap LoadOrThrow(string text)
    {
        var result = RouteMapLoader.Load(text, "scale.toml");
        if (!result.IsValid)
            throw new InvalidOperationException("the generated config is invalid:\n" + string.Join("\n", result.Errors.Take(20)));
        return result.Map!;
    }

    public static MeshSerializer Serializer(ActorSystem system) => new((ExtendedActorSystem)system);
}
