using System.CommandLine;
using Mesh.Config;
using Mesh.Contracts.Logging;

namespace Mesh.Cli.Admin;

/// <summary>Commands that change the mesh (need the API token), and the local config check.</summary>
public static class ChangeCommands
{
    public static IEnumerable<Command> All() => [Reload(), Cluster(), Config()];

    private static Command Reload()
    {
        var command = new Command("reload", "Make the director read its config file now (it also does so by itself when the file changes)");
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var body = await api.PostAsync("/v1/reload", ct);
            if (json) AdminOptions.PrintJson(body);
            else Console.WriteLine($"route map v{body.Str("revision")} from {body.Str("source")} is served (director {body.Str("director")})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Cluster()
    {
        var show = new Command("show", "The core gateways' cluster: members, status, leader, where the director runs");
        show.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var body = await api.GetAsync("/v1/cluster", ct);
            var anythingDown = body.Items("members").Any(m => !m.Bool("reachable") || m.Str("status") == "Down");
            if (json) { AdminOptions.PrintJson(body); return ViewCommands.DownIf(anythingDown); }
            var table = new Table("GATEWAY", "ADDRESS", "STATUS", "REACHABLE", "ROLE");
            foreach (var m in body.Items("members"))
                table.Row(m.Str("gateway"), m.Str("address"), m.Str("status"), m.Bool("reachable") ? "yes" : "NO",
                    string.Join(" ", new[] { m.Bool("leader") ? "leader" : null, m.Bool("director") ? "director" : null }.OfType<string>()) is { Length: > 0 } role ? role : "-");
            Console.Write(table);
            return ViewCommands.DownIf(anythingDown);
        }));
        return new Command("cluster", "The cluster of core gateways (where the director runs)") { show, Act("leave",
            "Ask a member to leave gracefully: the director moves if it ran there; the gateway's control plane starts again and rejoins"),
            Act("down", "Declare a member that is gone for good down (never a running one: it would restart its control plane)") }.ListingSubcommands();
    }

    private static Command Act(string action, string description)
    {
        var node = new Argument<string>("NODE") { Description = "The member's gateway name (or its address, as `mesh cluster show` prints it)" };
        var command = new Command(action, description) { node };
        command.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var body = await api.PostAsync($"/v1/cluster/{action}/{Uri.EscapeDataString(r.GetValue(node)!)}", ct);
            if (json) AdminOptions.PrintJson(body);
            else Console.WriteLine($"{body.Str("gateway")} ({body.Str("address")}): {action} requested");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>`mesh config check FILE`: the same checks the director makes, locally, before a file is deployed.</summary>
    private static Command Config()
    {
        var file = new Argument<string>("FILE") { Description = "A mesh config file (TOML)" };
        var check = new Command("check", "Validate a mesh config file here, without any gateway: every error as FILE:LINE: KEY: message") { file };
        check.SetAction(r =>
        {
            var path = r.GetValue(file)!;
            var result = RouteMapLoader.LoadFile(path);
            var warnings = result.Map is { } valid ? ConfigWarnings.Of(valid).ToArray() : [];
            if (r.GetValue(AdminOptions.Json))
                AdminOptions.PrintJson(new { file = path, valid = result.IsValid, errors = result.Errors.Select(e => e.ToString()).ToArray(), warnings });
            else if (result.Map is { } map)
            {
                Console.WriteLine($"{path}: valid: mesh {map.MeshName}, {Plural.MapSize(map.Gateways.Count, map.Services.Count, map.Entries.Length)}");
                foreach (var w in warnings) Console.WriteLine($"{path}: warning: {w}");
            }
            else foreach (var e in result.Errors) Console.Error.WriteLine(e);
            return result.IsValid ? ExitCodes.Ok : ExitCodes.Failed;
        });
        var pushed = new Argument<string>("FILE") { Description = "The mesh config file to apply (TOML)" };
        var push = new Command("push", "Apply a config file from here: the director validates it (every error, the served revision stays), "
                                       + "stores it as the next revision and publishes it") { pushed };
        push.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var path = r.GetValue(pushed)!;
            string text;
            try { text = await File.ReadAllTextAsync(path, ct); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new AdminError($"cannot read {path}: {e.Message}", ExitCodes.Usage); }
            var local = RouteMapLoader.Load(text, path);
            if (!local.IsValid)
            {   // the same checks the director makes: say them here, with this file's name
                foreach (var e in local.Errors) Console.Error.WriteLine(e);
                return ExitCodes.Failed;
            }
            var body = await api.PutTextAsync("/v1/config", text, ct);
            if (json) AdminOptions.PrintJson(body);
            else Console.WriteLine($"route map v{body.Str("revision")} is served (director {body.Str("director")}), applied from {body.Str("appliedFrom")}");
            return ExitCodes.Ok;
        }));
        var show = new Command("show", "The config the director serves: revision, where it came from, whether its own file differs");
        show.SetAction((r, ct) => AdminOptions.RunAsync(r, async (api, json) =>
        {
            var body = await api.GetAsync("/v1/config", ct);
            if (json) AdminOptions.PrintJson(body);
            else
            {
                Console.WriteLine($"revision  v{body.Str("revision")} (director {body.Str("director")})");
                Console.WriteLine($"from      {body.Str("appliedFrom")}{(body.TryGetProperty("appliedAt", out var at) && at.ValueKind == System.Text.Json.JsonValueKind.String ? $" at {at.GetString()}" : "")}");
                if (body.Bool("fileDiffers")) Console.WriteLine($"note      the director's file {body.Str("source")} differs from it (applied when it changes, or pushed)");
                foreach (var e in body.Items("errors")) Console.WriteLine($"refused   {e.GetString()}");
            }
            return ExitCodes.Ok;
        }));
        return new Command("config", "The mesh config: check a file here, push one to the director, show what is served") { check, push, show }.ListingSubcommands();
    }
}
