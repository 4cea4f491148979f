using System.CommandLine;
using System.Text.Json;
using Mesh.Contracts.Routing;

namespace Mesh.Cli.Admin;

/// <summary>
/// The read-only admin commands: each asks the REST API and prints a table (or the JSON with --json). One rule
/// for exit codes (docs/cli.md): a command that shows state exits 1 when what it shows includes something down
/// (a service down, a gateway not connected, an invalid config), so a script can alert on any of them.
/// </summary>
public static class ViewCommands
{
    public static IEnumerable<Command> All() => [Status(), Gateways(), Services(), Links(), Routes(), Health(), Events()];

    /// <param name="anythingDown">what the answer shows includes something down: exit 1, with the table or the JSON alike</param>
    private static Command Simple(string name, string description, string path, Action<JsonElement> print, Func<JsonElement, bool> anythingDown)
    {
        var command = new Command(name, description);
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var body = await api.GetAsync(path, ct);
            if (json) AdminOptions.PrintJson(body);
            else print(body);
            return DownIf(anythingDown(body));
        }));
        return command;
    }

    /// <summary>Exit 1 when what a command shows includes something down, else 0.</summary>
    public static int DownIf(bool anythingDown) => anythingDown ? ExitCodes.Failed : ExitCodes.Ok;

    /// <summary>The mesh at a glance; exit 1 when a service is down, a gateway lost, or the config invalid.</summary>
    private static Command Status()
    {
        var command = new Command("status", "The mesh at a glance: director, config revision and last reload, gateways and services up or down");
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var config = await api.GetAsync("/v1/config", ct);
            var health = await api.GetAsync("/v1/health", ct);
            var gateways = health.Items("gateways").ToList();
            var lost = gateways.Where(g => !g.Bool("connected")).Select(g => g.Str("name")).ToArray();
            var down = health.Items("services").Where(s => s.Str("state") == "down").ToList();
            var status = new
            {
                director = config.Str("director"),
                revision = config.GetProperty("revision").GetInt64(),
                source = config.Str("source"),
                valid = config.Bool("valid"),
                errors = config.Items("errors").Select(e => e.GetString()).ToArray(),
                gateways = new { connected = gateways.Count - lost.Length, notConnected = lost },
                services = new
                {
                    up = health.GetProperty("up").GetInt32(),
                    down = down.Select(s => new { service = s.Str("service"), owner = s.Str("owner"), reason = s.Str("reason") }).ToArray(),
                    unknown = health.GetProperty("unknown").GetInt32(),
                },
            };
            if (json) AdminOptions.PrintJson(status);
            else
            {
                Console.WriteLine($"director  {status.director}");
                Console.WriteLine($"config    v{status.revision} from {status.source}: {(status.valid ? "valid" : $"INVALID, still serving v{status.revision}")}");
                foreach (var e in status.errors) Console.WriteLine($"          {e}");
                Console.WriteLine($"gateways  {status.gateways.connected} connected{(lost.Length > 0 ? $", not connected: {string.Join(", ", lost)}" : "")}");
                Console.WriteLine($"services  {status.services.up} up, {down.Count} down, {status.services.unknown} unknown");
                foreach (var s in status.services.down) Console.WriteLine($"  down    {s.service} (owned by {s.owner}): {s.reason}");
            }
            return DownIf(down.Count > 0 || lost.Length > 0 || !status.valid);
        }));
        return command;
    }

    private static Command Gateways() => Simple("gateways", "The gateways: core or edge, connected or not, since when, the Mesh version each runs", "/v1/gateways", body =>
    {
        var table = new Table("GATEWAY", "KIND", "CONNECTED", "SINCE", "LAST SEEN", "VERSION", "LINK ADDRESSES");
        foreach (var g in body.Items())
            table.Row(g.Str("name"), g.Bool("core") ? "core" : "edge", g.Bool("connected") ? "yes" : "NO", g.Time("since"), g.Time("lastSeen"),
                g.Str("version").Split('+')[0],
                string.Join(",", g.Items("links").Select(l => l.GetString())) is { Length: > 0 } links ? links : "-");
        Console.Write(table);
    }, body => body.Items().Any(g => !g.Bool("connected")));

    private static Command Services() => Simple("services", "The services: owner, target, check, health, entries", "/v1/services", body =>
    {
        var table = new Table("SERVICE", "OWNER", "TARGET", "CHECK", "HEALTH", "ENTRIES");
        foreach (var s in body.Items())
            table.Row(s.Str("name"), s.Str("owner"), s.Str("target"), s.Str("check"), s.Str("health"), string.Join(", ", s.Items("entries").Select(e => e.GetString())));
        Console.Write(table);
    }, body => body.Items().Any(s => s.Str("health") == "down"));

    private static Command Links() => Simple("links", "The links paths use now, with their cost (round trip in 5 ms steps)", "/v1/links", body =>
    {
        var table = new Table("LINK", "COST");
        foreach (var l in body.Items()) table.Row($"{l.Str("a")} <-> {l.Str("b")}", l.Str("cost"));
        Console.Write(table);
    }, _ => false);   // only the links that work are listed: nothing it shows is down

    private static Command Routes()
    {
        var gateway = new Argument<string>("GATEWAY") { Description = "The gateway whose route table to show" };
        var command = new Command("routes", "The route table a gateway receives: its entries, the services it owns, and its next hops") { gateway };
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var body = await api.GetAsync($"/v1/routes/{Uri.EscapeDataString(r.GetValue(gateway)!)}", ct);
            if (json) { AdminOptions.PrintJson(body); return DownIf(body.Items("downServices").Any()); }
            Console.WriteLine($"route table {TableVersion.Text(body.GetProperty("version").GetInt64())} of {body.Str("gateway")}");
            var entries = new Table("LISTEN", "SERVICE", "OWNER");
            foreach (var e in body.Items("entries")) entries.Row(e.Str("listen"), e.Str("service"), e.Str("owner"));
            Console.Write(entries);
            var owned = new Table("OWNS", "TARGET", "CHECK");
            foreach (var o in body.Items("owned")) owned.Row(o.Str("name"), o.Str("target"), o.GetProperty("check").Str("kind"));
            Console.Write(owned);
            var hops = new Table("TO", "VIA", "COST");
            foreach (var h in body.Items("nextHops"))
                hops.Row(h.Str("destination"), h.Str("via") == h.Str("destination") ? "direct" : h.Str("via"), h.Str("cost") is "0" ? "-" : h.Str("cost"));
            Console.Write(hops);
            foreach (var d in body.Items("downServices")) Console.WriteLine($"down: {d.Str("name")}: {d.Str("reason")}");
            return DownIf(body.Items("downServices").Any());
        }));
        return command;
    }

    private static Command Health() => Simple("health", "Each service's health as its owner reports it", "/v1/health", body =>
    {
        Console.WriteLine($"{body.Str("up")} up, {body.Str("down")} down, {body.Str("unknown")} unknown");
        var table = new Table("SERVICE", "OWNER", "CHECK", "STATE", "SINCE", "REASON");
        foreach (var s in body.Items("services"))
            table.Row(s.Str("service"), s.Str("owner"), s.Str("check"), s.Str("state"), s.Time("since"), s.Str("reason"));
        Console.Write(table);
    }, body => body.Items("services").Any(s => s.Str("state") == "down"));

    private static Command Events()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events as they happen (Ctrl-C to stop)" };
        var limit = new Option<int>("--limit", "-n") { Description = "How many recent events to show first (0-1000; -n 0 --follow: only new ones)", DefaultValueFactory = _ => 20 };
        limit.Validators.Add(v => { if (v.GetValueOrDefault<int>() is < 0 or > 1000) v.AddError("--limit must be from 0 to 1000"); });
        var command = new Command("events", "Recent events: services down or up, gateways lost or back, reloads applied or failed") { follow, limit };
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var (first, following) = (r.GetValue(limit), r.GetValue(follow));
            if (first == 0 && !following) return ExitCodes.Ok;
            // -n 0: nothing from the past; the newest event so far (the API's clock, not ours) is where following starts
            var last = first > 0 ? null : Newest((await api.GetAsync("/v1/events?limit=1", ct)).Items().ToList(), null);
            var path = first > 0 ? $"/v1/events?limit={first}" : After(last);
            using var poll = new PeriodicTimer(TimeSpan.FromSeconds(1));
            do
            {
                var events = (await api.GetAsync(path, ct)).Items().ToList();
                foreach (var e in events)
                {
                    if (json) AdminOptions.PrintJsonLine(e);   // one object per line: easy to pipe
                    else Console.WriteLine($"{e.Time("at")}  {e.Str("level"),-7}  {e.Str("kind"),-14}  {e.Str("message")}");
                }
                last = Newest(events, last);
                path = After(last);
            } while (following && await poll.WaitForNextTickAsync(ct).AsTask().ContinueWith(t => !t.IsCanceled));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string? Newest(List<JsonElement> events, string? before) =>
        events.LastOrDefault() is { ValueKind: JsonValueKind.Object } newest ? newest.Str("at") : before;

    /// <summary>The events after <paramref name="last"/> (all of them, up to 1000, when there was none yet).</summary>
    private static string After(string? last) => last is null ? "/v1/events?limit=1000" : $"/v1/events?limit=1000&since={Uri.EscapeDataString(last)}";
}
