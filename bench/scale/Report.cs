using System.Globalization;

namespace Mesh.Bench.Scale;

/// <summary>The Markdown tables: a row per size as each finishes, then the figures by size with the targets of issue 19 beside 1,000.</summary>
public static class Report
{
    /// <summary>A figure's name, how to print it from a size's figures, and its target at 1,000 gateways ("" for none).</summary>
    private sealed record Column(string Name, Func<Figures, string> Value, string Target);

    private static readonly Column[] Columns =
    [
        new("services", f => N(f.Services), "10,000"),
        new("entries", f => N(f.Entries), "20,000"),
        new("config load (RouteMapLoader)", f => Ms(f.Load), ""),
        new("working links (WorkingLinks.From)", f => Ms(f.WorkingLinks) + $"; {N(f.Links)} links", ""),
        new("all tables from a new config (RouteTables.For × gateways)", f => Est(f, Ms(f.Tables)), "< 100 ms (full recomputation)"),
        new("one core–edge link down (2 reports, every gateway's delta)", f => Est(f, Ms(f.LinkDown)) + (f.TablesChanged is { } c ? $"; {N(c)} tables changed" : ""),
            "< 10 ms (every affected delta)"),
        new("a core–core link 100 ms slower (every path and table again, every gateway's delta)",
            f => f.CoreLinkChange is { } c ? Ms(c) + $"; {N(f.CoreLinkTablesChanged ?? 0)} tables changed" : "", "< 100 ms (full recomputation)"),
        new("biggest delta, serialized", f => f.BiggestDeltaBytes is { } b ? $"{N(b)} bytes ({f.BiggestDelta})" : "", "< 4 KB"),
        new("an unchanged report (working links again)", f => Ms(f.RoutineReport), "< 0.05 ms"),
        new("biggest table, serialized", f => Kib(f.BiggestTableBytes) + $" ({f.BiggestGateway})", ""),
        new("biggest edge table, serialized", f => Kib(f.BiggestEdgeTableBytes) + $" ({f.BiggestEdge})", "< 64 KB"),
        new("all tables, serialized (one republish)", f => Est(f, Mib(f.AllTablesBytes)), ""),
        new("serialization of one republish", f => Est(f, Ms(f.Serialize)), "< 1 s"),
        new("memory of the cached tables", f => Est(f, Mib(f.TablesMemoryBytes)), "< 100 MiB"),
        new("load average (1 min) before–after", f => $"{f.LoadBefore}–{f.LoadAfter}", ""),
        new("time to measure this size", f => f.Seconds < 10 ? $"{f.Seconds:N1} s" : $"{f.Seconds:N0} s", ""),
    ];

    public static void Header(TextWriter o)
    {
        o.WriteLine("| gateways | " + string.Join(" | ", Columns.Select(c => c.Name)) + " |");
        o.WriteLine("|---" + string.Concat(Columns.Select(_ => "|---")) + "|");
    }

    /// <summary>A size's row; after 1,000 gateways, the targets' row.</summary>
    public static void Row(TextWriter o, Figures f)
    {
        o.WriteLine($"| {N(f.Gateways)} | " + string.Join(" | ", Columns.Select(c => c.Value(f))) + " |");
        if (f.Gateways == 1000) o.WriteLine("| target at 1,000 | " + string.Join(" | ", Columns.Select(c => c.Target)) + " |");
        o.Flush();
    }

    /// <summary>Figures down, sizes across, the target beside the 1,000 column (the layout of docs/PERFORMANCE.md).</summary>
    public static void BySize(TextWriter o, IReadOnlyList<Figures> sizes)
    {
        var target = sizes.Any(f => f.Gateways == 1000);
        string Cells(Func<Figures, string> value, string goal) =>
            string.Join(" | ", sizes.Select(f => value(f) + (target && f.Gateways == 1000 ? $" | {goal}" : "")));
        o.WriteLine("| gateways | " + Cells(f => N(f.Gateways), "target at 1,000") + " |");
        o.WriteLine("|---" + string.Concat(Enumerable.Repeat("|---:", sizes.Count + (target ? 1 : 0))) + "|");
        foreach (var c in Columns) o.WriteLine($"| {c.Name} | " + Cells(c.Value, c.Target) + " |");
        if (sizes.Any(f => f.Estimated))
            o.WriteLine("\n~: estimated from a sample of tables scaled to every gateway (the size's table work exceeded the budget).");
        o.WriteLine("\nTimes: wall (Stopwatch), and in brackets the CPU time of the thread that did the work (its GC included); medians.");
    }

    private static string Est(Figures f, string value) => f.Estimated ? "~" + value : value;

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>"38.9 s (11.2 s CPU)": wall time, and the CPU time of the thread beside it.</summary>
    private static string Ms(Cost c) => double.IsNaN(c.CpuMs) ? Ms(c.WallMs) : $"{Ms(c.WallMs)} ({Ms(c.CpuMs)} CPU)";

    private static string Ms(double ms) => ms switch
    {
        < 1 => ms.ToString("0.000", CultureInfo.InvariantCulture) + " ms",
        < 100 => ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms",
        < 10_000 => ms.ToString("N0", CultureInfo.InvariantCulture) + " ms",
        _ => (ms / 1000).ToString("N1", CultureInfo.InvariantCulture) + " s",
    };

    private static string Kib(long bytes) => (bytes / 1024.0).ToString("N1", CultureInfo.InvariantCulture) + " KiB";

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("N1", CultureInfo.InvariantCulture) + " MiB";
}
