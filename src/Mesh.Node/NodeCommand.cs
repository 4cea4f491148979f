using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Mesh.Config;

namespace Mesh.Node;

/// <summary>The command line of Mesh.Node: one binary for every site, core or edge.</summary>
public static partial class NodeCommand
{
    private static readonly Option<string> Name = new("--name")
    { Description = "This gateway's unique name (lowercase letters, digits, '-'); required", HelpName = "NAME" };
    private static readonly Option<JoinSpec?> Join = new("--join")
    {
        Description = "Core gateway: the core gateways' cluster addresses (HOST:--cluster-port), comma-separated; give every core gateway "
                      + "the same list (the first one that is up founds the cluster). Edge gateway: the core gateways' link addresses (their --listen), "
                      + "or dns:NAME, an SRV name whose records are those link addresses, looked up again before every reconnect (e.g. dns:_mesh._tcp.example.org)",
        HelpName = "HOST:PORT|dns:NAME[,...]", CustomParser = ParseJoin,
    };
    private static readonly Option<HostPort?> DnsResolver = new("--dns-resolver")
    {
        Description = "With --join dns:NAME: the DNS server to look NAME up on (an IP address and port; default: the system's resolvers)",
        HelpName = "IP:PORT", CustomParser = ParseAddress,
    };
    private static readonly Option<HostPort?> Dns = new("--dns")
    {
        Description = "Serve the mesh's names over DNS here (UDP and TCP), from this gateway's route table: SERVICE.mesh (A/AAAA of this gateway's "
                      + "entries for it), _SERVICE._tcp.mesh (SRV), NAME.gateway.mesh (a gateway's link addresses); nothing outside .mesh (REFUSED)",
        HelpName = "IP:PORT", CustomParser = ParseAddress,
    };
    private static readonly Option<int?> ClusterPort = new("--cluster-port")
    { Description = $"Core gateways: the Akka cluster port (default {NodeOptions.DefaultClusterPort}), bound on the first --listen host", HelpName = "PORT" };
    private static readonly Option<HostPort[]> Listen = new("--listen")
    {
        Description = "This gateway's link ports, which other gateways dial; it makes this a core gateway (with --edge, an edge that accepts links). Several may be given "
                      + "(comma-separated), and 0.0.0.0 or [::] binds every address (then give --advertise). Without it the gateway is an edge that only dials out",
        HelpName = "HOST:PORT[,HOST:PORT...]", CustomParser = ParseAddresses, DefaultValueFactory = _ => [],
    };
    private static readonly Option<string?> Advertise = new("--advertise")
    {
        Description = "The host other core gateways dial for the cluster, when it is not the --listen host (a cloud VM's 1:1 NAT, a load balancer). "
                      + "Link addresses others dial are the gateway's `links` in the mesh config",
        HelpName = "HOST",
    };
    private static readonly Option<bool> Edge = new("--edge")
    {
        Description = "With --listen: stay an edge gateway (edge certificate, not a cluster member) that accepts links, so that other edges "
                      + "that can reach it (one LAN, a private WAN) link with it directly instead of through a core gateway. Declare the same "
                      + "addresses as links, with role = \"edge\", in its [gateways.NAME]",
    };
    private static readonly Option<string?> ConfigFile = new("--config")
    { Description = "The mesh config (TOML); this node may then host the director (core gateways only)", HelpName = "FILE" };
    private static readonly Option<bool> Check = new("--check")
    { Description = "With --config: validate the file, print every error, exit 0 if valid and 2 if not; starts nothing" };
    private static readonly Option<string?> Redis = new("--redis")
    {
        Description = "Keep the director's state in Redis too, shared by every node that may host it: a StackExchange.Redis "
                      + "configuration string (host:port[,ssl=true]). The password comes from --redis-password-file or MESH_REDIS_PASSWORD",
        HelpName = "CONFIGURATION",
    };
    private static readonly Option<string?> RedisPasswordFile = new("--redis-password-file")
    { Description = "A file whose first line is the Redis password (else MESH_REDIS_PASSWORD)", HelpName = "FILE" };
    private static readonly Option<HostPort?> Api = new("--api")
    {
        Description = "Serve the REST API here (core gateways): JSON, an OpenAPI document at /openapi/v1.json. Reads need the read or admin token, "
                      + "writes the admin token; HTTPS with --api-cert and --api-key",
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
    private static readonly Option<string> LogLevel = new("--log-level")
    {
        Description = "info (Mesh's events; Akka's own lines from WARNING, exceptions inside Akka on one line) or debug (everything, "
                      + "with Akka's internals, every link dial retry and every stack)",
        HelpName = "info|debug", DefaultValueFactory = _ => "info",
    };
    private static readonly Option<string?> ApiTokenFile = new("--api-token-file")
    { Description = "A file holding the API's admin token (reads and writes; at least 16 characters; else MESH_API_TOKEN)", HelpName = "FILE" };
    private static readonly Option<string?> ApiReadTokenFile = new("--api-read-token-file")
    { Description = "A file holding the API's read token (reads only; else MESH_API_READ_TOKEN)", HelpName = "FILE" };
    private static readonly Option<bool> ApiPublicReads = new("--api-public-reads")
    { Description = "Serve API reads (and /metrics) without a token; writes still need the admin token" };
    private static readonly Option<string?> ApiCert = new("--api-cert") { Description = "Serve the API over HTTPS with this certificate (PEM)", HelpName = "FILE" };
    private static readonly Option<string?> ApiKey = new("--api-key") { Description = "The key of --api-cert (PEM)", HelpName = "FILE" };
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
        Name, Join, ClusterPort, Listen, Edge, Advertise, ConfigFile, Check, Redis, RedisPasswordFile, Api, ApiTokenFile, ApiReadTokenFile, ApiPublicReads,
        ApiCert, ApiKey, Metrics, LogFormat, LogLevel, Cert, Key, Ca, StateDir, Dns, DnsResolver,
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
        if (result.GetValue(LogLevel) is not ("info" or "debug")) { error = $"--log-level: '{result.GetValue(LogLevel)}' is not info or debug"; return Outcome.Invalid; }
        options = new NodeOptions(name)
        {
            Join = result.GetValue(Join)?.Addresses ?? [], JoinDns = result.GetValue(Join)?.Names ?? [], Dns = result.GetValue(Dns),
            DnsResolver = result.GetValue(DnsResolver), ClusterPort = result.GetValue(ClusterPort), Listen = result.GetValue(Listen) ?? [],
            Advertise = result.GetValue(Advertise)?.Trim().TrimStart('[').TrimEnd(']'), ConfigPath = result.GetValue(ConfigFile), Redis = result.GetValue(Redis),
            RedisPasswordFile = result.GetValue(RedisPasswordFile), Api = result.GetValue(Api), Cert = result.GetValue(Cert), Key = result.GetValue(Key),
            Ca = result.GetValue(Ca), StateDir = result.GetValue(StateDir) ?? Path.Combine("mesh-state", name),
            ApiTokenFile = result.GetValue(ApiTokenFile), ApiReadTokenFile = result.GetValue(ApiReadTokenFile), ApiPublicReads = result.GetValue(ApiPublicReads),
            ApiCert = result.GetValue(ApiCert), ApiKey = result.GetValue(ApiKey), Metrics = result.GetValue(Metrics), JsonLogs = result.GetValue(LogFormat) == "json",
            DebugLogs = result.GetValue(LogLevel) == "debug", Edge = result.GetValue(Edge),
        };
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

    /// <summary>--join: HOST:PORT addresses and dns:NAME SRV names, comma-separated.</summary>
    private sealed record JoinSpec(HostPort[] Addresses, string[] Names);

    private static JoinSpec ParseJoin(ArgumentResult r)
    {
        var (addresses, names) = (new List<HostPort>(), new List<string>());
        foreach (var part in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (part.StartsWith("dns:", StringComparison.OrdinalIgnoreCase))
            {
                var name = part[4..].TrimEnd('.');
                if (SrvName().IsMatch(name)) names.Add(name);
                else r.AddError($"--join: '{part}': '{name}' is not a DNS name (e.g. dns:_mesh._tcp.example.org)");
            }
            else if (HostPort.TryParse(part, out var hp, out var error)) addresses.Add(hp!);
            else r.AddError($"--join: {error} (or dns:NAME, an SRV name)");
        }
        return new([.. addresses], [.. names]);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial System.Text.RegularExpressions.Regex SrvName();

    private static string OptionName(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : "argument";
}
