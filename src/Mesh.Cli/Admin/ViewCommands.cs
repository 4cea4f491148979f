using System.CommandLine;
using System.Text.Json;
using Mesh.Contracts.Routing;

namespace Mesh.Cli.Admin;

/// <summary>The read-only admin commands: each asks the REST API and prints a table (or the JSON with --json).</summary>
public static class ViewCommands
{
    public static IEnumerable<Command> All() => [Status(), Gateways(), Services(), Links(), Routes(), Health(), Events()];

    private static Command Simple(string name, string description, string path, Action<JsonElement> print)
    {
        var command = new Command(name, description);
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var body = await api.GetAsync(path, ct);
            if (json) AdminOptions.PrintJson(body);
            else print(body);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The mesh at a glance; exit 1 when a service is down or a gateway lost (scripts can alert on it).</summary>
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
            return down.Count > 0 || lost.Length > 0 || !status.valid ? ExitCodes.Failed : ExitCodes.Ok;
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
    });

    private static Command Services() => Simple("services", "The services: owner, target, check, health, entries", "/v1/services", body =>
    {
        var table = new Table("SERVICE", "OWNER", "TARGET", "CHECK", "HEALTH", "ENTRIES");
        foreach (var s in body.Items())
            table.Row(s.Str("name"), s.Str("owner"), s.Str("target"), s.Str("check"), s.Str("health"), string.Join(", ", s.Items("entries").Select(e => e.GetString())));
        Console.Write(table);
    });

    private static Command Links() => Simple("links", "The links paths use now, with their cost (round trip in 5 ms steps)", "/v1/links", body =>
    {
        var table = new Table("LINK", "COST");
        foreach (var l in body.Items()) table.Row($"{l.Str("a")} <-> {l.Str("b")}", l.Str("cost"));
        Console.Write(table);
    });

    private static Command Routes()
    {
        var gateway = new Argument<string>("GATEWAY") { Description = "The gateway whose route table to show" };
        var command = new Command("routes", "The route table a gateway receives: its entries, the services it owns, and its next hops") { gateway };
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var body = await api.GetAsync($"/v1/routes/{Uri.EscapeDataString(r.GetValue(gateway)!)}", ct);
            if (json) { AdminOptions.PrintJson(body); return ExitCodes.Ok; }
            Console.WriteLine($"route table {TableVersion.Text(body.GetProperty("version").GetInt64())} of {body.Str("gateway")}");
            var entries = new Table("LISTEN", "SERVICE", "OWNER");
            foreach (var e in body.Items("entries")) entries.Row(e.Str("listen"), e.Str("service"), e.Str("owner"));
            Console.Write(entries);
            var owned = new Table("OWNS", "TARGET", "CHECK");
            foreach (var o in body.Items("owned")) owned.Row(o.Str("name"), o.Str("target"), o.GetProperty("check").Str("kind"));
            Console.Write(owned);
            var hops = new Table("TO", "VIA");
            foreach (var h in body.Items("nextHops")) hops.Row(h.Str("destination"), h.Str("via") == h.Str("destination") ? "direct" : h.Str("via"));
            Console.Write(hops);
            foreach (var d in body.Items("downServices")) Console.WriteLine($"down: {d.Str("name")}: {d.Str("reason")}");
            return ExitCodes.Ok;
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
    });

    private static Command Events()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events as they happen (Ctrl-C to stop)" };
        var limit = new Option<int>("--limit", "-n") { Description = "How many recent events to show first (1-1000)", DefaultValueFactory = _ => 20 };
        var command = new Command("events", "Recent events: services down or up, gateways lost or back, reloads applied or failed") { follow, limit };
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var last = (string?)null;
            var path = $"/v1/events?limit={r.GetValue(limit)}";
            using var poll = new PeriodicTimer(TimeSpan.FromSeconds(1));
            do
            {
                var events = (await api.GetAsync(path, ct)).Items().ToList();
                foreach (var e in events)
                {
                    if (json) Console.WriteLine(JsonSerializer.Serialize(e));   // one object per line: easy to pipe
                    else Console.WriteLine($"{e.Time("at")}  {e.Str("level"),-7}  {e.Str("kind"),-14}  {e.Str("message")}");
                }
                last = events.LastOrDefault() is { ValueKind: JsonValueKind.Object } newest ? newest.Str("at") : last;
                if (last is not null) path = $"/v1/events?limit=1000&since={Uri.EscapeDataString(last)}";
            } while (r.GetValue(follow) && await poll.WaitForNextTickAsync(ct).AsTask().ContinueWith(t => !t.IsCanceled));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
