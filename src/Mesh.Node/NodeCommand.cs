using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Mesh.Config;

namespace Mesh.Node;

/// <summary>The command line of Mesh.Node: one binary for every site, core or edge.</summary>
public static class NodeCommand
{
    private static readonly Option<string> Name = new("--name")
    { Description = "This gateway's unique name (lowercase letters, digits, '-'); required", HelpName = "NAME" };
    private static readonly Option<HostPort[]> Join = new("--join")
    {
        Description = "The core gateways' cluster addresses, comma-separated; give every node the same list: "
                      + "the first one founds the cluster. A core node without --join founds it alone",
        HelpName = "HOST:PORT[,HOST:PORT...]", CustomParser = ParseAddresses, DefaultValueFactory = _ => [],
    };
    private static readonly Option<int?> ClusterPort = new("--cluster-port")
    { Description = $"Akka remoting port (default {NodeOptions.DefaultClusterPort} on core gateways, any free port on edges)", HelpName = "PORT" };
    private static readonly Option<HostPort?> Listen = new("--listen")
    {
        Description = "This gateway's link address, which other gateways dial; it makes this a core gateway "
                      + "(its host is also the cluster address). Without it the gateway is an edge that only dials out",
        HelpName = "HOST:PORT", CustomParser = ParseAddress,
    };
    private static readonly Option<string?> ConfigFile = new("--config")
    { Description = "The mesh config (TOML); this node may then host the director (core gateways only)", HelpName = "FILE" };
    private static readonly Option<bool> Check = new("--check")
    { Description = "With --config: validate the file, print every error, exit 0 if valid and 2 if not; starts nothing" };
    private static readonly Option<string?> Redis = new("--redis")
    {
        Description = "Keep the director's state in Redis, shared by every node that may host it: a StackExchange.Redis "
                      + "configuration string (host:port[,password=SECRET][,ssl=true]). Without it the state is kept in a file under --state-dir",
        HelpName = "CONFIGURATION",
    };
    private static readonly Option<HostPort?> Api = new("--api")
    {
        Description = "Serve the REST API here (core gateways): JSON, an OpenAPI document at /openapi/v1.json; "
                      + "writes need the token of --api-token-file or MESH_API_TOKEN",
        HelpName = "HOST:PORT", CustomParser = ParseAddress,
    };
    private static readonly Option<HostPort?> Metrics = new("--metrics")
    {
        Description = "Serve /metrics (Prometheus text format) here, on any gateway; a gateway with --api serves it there too",
        HelpName = "HOST:PORT", CustomParser = ParseAddress,
    };
    private static readonly Option<string> LogFormat = new("--log-format")
    {
        Description = "text (one readable line per event) or json (one JSON object per line, for log collectors)",
        HelpName = "text|json", DefaultValueFactory = _ => "text",
    };
    private static readonly Option<string?> ApiTokenFile = new("--api-token-file")
    { Description = "A file whose first line is the API's bearer token for writes (else MESH_API_TOKEN; neither: writes are off)", HelpName = "FILE" };
    private static readonly Option<string?> Cert = new("--cert") { Description = "This gateway's certificate (PEM)", HelpName = "FILE" };
    private static readonly Option<string?> Key = new("--key") { Description = "This gateway's private key (PEM)", HelpName = "FILE" };
    private static readonly Option<string?> Ca = new("--ca") { Description = "The mesh CA certificate (PEM)", HelpName = "FILE" };
    private static readonly Option<string> StateDir = new("--state-dir")
    {
        Description = "Where the embedded director store lives (default ./mesh-state/NAME)", HelpName = "DIR",
    };

    public static RootCommand Create() => new("Mesh gateway: one per site. Joins the mesh, keeps its route table from the director, "
                                              + "and (with --config) may host the director.")
    {
        Name, Join, ClusterPort, Listen, ConfigFile, Check, Redis, Api, ApiTokenFile, Metrics, LogFormat, Cert, Key, Ca, StateDir,
    };

    public enum Outcome { Run, Check, Help, Invalid }

    /// <summary>Parses args; on Invalid, <paramref name="error"/> is one line naming the flag.</summary>
    public static Outcome Parse(RootCommand root, string[] args, out NodeOptions? options, out string? configToCheck, out string? error)
    {
        options = null;
        configToCheck = null;
        error = null;
        var result = root.Parse(args);
        if (result.Errors.Count > 0 && result.Action is not HelpAction) { error = result.Errors[0].Message; return Outcome.Invalid; }
        if (result.Action is not null) return Outcome.Help;   // --help or --version: the root itself has no action
        if (result.GetValue(Check))
        {
            configToCheck = result.GetValue(ConfigFile);
            if (configToCheck is null) { error = "--check needs --config FILE"; return Outcome.Invalid; }
            return Outcome.Check;
        }
        var name = result.GetValue(Name);
        if (name is null) { error = "--name is required"; return Outcome.Invalid; }
        if (!Names.IsValid(name))
        { error = $"--name: '{name}' is not a valid gateway name: {Names.Rule}"; return Outcome.Invalid; }
        if (result.GetValue(ClusterPort) is < 0 or > 65535) { error = "--cluster-port must be from 0 to 65535"; return Outcome.Invalid; }
        if (result.GetValue(LogFormat) is not ("text" or "json")) { error = $"--log-format: '{result.GetValue(LogFormat)}' is not text or json"; return Outcome.Invalid; }
        options = new NodeOptions(name, result.GetValue(Join) ?? [], result.GetValue(ClusterPort), result.GetValue(Listen),
            result.GetValue(ConfigFile), result.GetValue(Redis), result.GetValue(Api), result.GetValue(Cert), result.GetValue(Key),
            result.GetValue(Ca), result.GetValue(StateDir) ?? Path.Combine("mesh-state", name)) { ApiTokenFile = result.GetValue(ApiTokenFile), Metrics = result.GetValue(Metrics), JsonLogs = result.GetValue(LogFormat) == "json" };
        error = options.Problems().FirstOrDefault();
        return error is null ? Outcome.Run : Outcome.Invalid;
    }

    private static HostPort? ParseAddress(ArgumentResult r)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (HostPort.TryParse(text, out var hp, out var error)) return hp;
        r.AddError($"{OptionName(r)}: {error}");
        return null;
    }

    private static HostPort[] ParseAddresses(ArgumentResult r)
    {
        var list = new List<HostPort>();
        foreach (var part in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (HostPort.TryParse(part, out var hp, out var error)) list.Add(hp!);
            else r.AddError($"{OptionName(r)}: {error}");
        }
        return [.. list];
    }

    private static string OptionName(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : "argument";
}
