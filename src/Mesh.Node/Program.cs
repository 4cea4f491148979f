using System.Runtime.InteropServices;
using Mesh.Config;
using Mesh.Contracts.Logging;
using Mesh.Node;
using Mesh.Node.Api;
using Mesh.Transport.Security;

// Socket completions run on the socket engine's thread instead of hopping to a thread-pool worker:
// p50 at c=1 from ~240 to ~155 µs, redis GET at c=50 +25%, new flows/s +40% (docs/adr/0003). Read when
// the first socket is used, so it is set before anything else; an operator's own value wins.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null) Environment.SetEnvironmentVariable(InlineCompletions, "1");

var root = NodeCommand.Create();
switch (NodeCommand.Parse(root, args, out var options, out var configToCheck, out var error))
{
    case NodeCommand.Outcome.Help:
        return root.Parse(args).Invoke();
    case NodeCommand.Outcome.Invalid:
        Console.Error.WriteLine($"Mesh.Node: {error} (see --help)");
        return 2;
    case NodeCommand.Outcome.Check:
        return CheckConfig(configToCheck!);
}

var o = options!;
Mesh.Node.Logging.NodeLog.Configure(o.Name, o.DebugLogs, o.JsonLogs);
foreach (var deprecation in o.Deprecations()) Warn(deprecation);
RouteMap? localMap = null;
if (o.ConfigPath is not null)
{
    if (CheckConfig(o.ConfigPath, quietWhenValid: true) != 0) return 2;   // a first load that is invalid stops the node
    localMap = RouteMapLoader.LoadFile(o.ConfigPath).Map!;
    if (localMap.Gateways.GetValueOrDefault(o.Name)?.Kind != GatewayKind.Core)
        Warn($"--config {o.ConfigPath} does not declare this gateway as a core gateway (links in [gateways.{o.Name}], and no role = \"edge\"): "
             + "the cluster refuses it once the director serves such a map");
}

NodeParts parts;
string? redisPassword;
Mesh.Gateway.Naming.MeshDnsServer? dns = null;
try
{
    MeshIdentity identity;
    try { identity = MeshIdentity.Load(o.Cert!, o.Key!, o.Ca!); }
    catch (MeshIdentityException e) { throw new StartupException(e.Message); }
    if (identity.Name != o.Name) throw new StartupException($"--cert {o.Cert} is issued to '{identity.Name}', but --name is '{o.Name}'");
    Startup.CheckRole(o, identity);
    foreach (var listen in o.Listen) Startup.CheckFree("--listen", listen);   // first: the cluster binds the first --listen host too
    if (o.Api is not null)
    {
        ApiTokens.From(o);
        Startup.CheckFree("--api", o.Api);
        var loopback = System.Net.IPAddress.TryParse(o.Api.Host, out var ip) ? System.Net.IPAddress.IsLoopback(ip) : o.Api.Host == "localhost";
        if (o.ApiCert is null && !loopback)
            Warn($"--api {o.Api} is not a loopback address and has no --api-cert: tokens cross the network in clear; serve HTTPS with --api-cert/--api-key");
    }
    if (o.Metrics is not null) Startup.CheckFree("--metrics", o.Metrics);
    redisPassword = RedisPassword(o);
    if (o.IsCore) Startup.CheckFree("--cluster-port", new HostPort(o.BindHost, o.EffectiveClusterPort));
    await Startup.CheckEdgeJoinAsync(o, identity);
    var trust = new MeshTrust();
    if (localMap is not null)   // until the first route table: who the local config declares
        trust.Update(localMap.Gateways.Values.Select(g => (g.Name, g.Kind == GatewayKind.Core)), localMap.Settings.Revoked);
    var routes = new Mesh.Gateway.Flows.RouteView();
    dns = Startup.StartDns(o, routes);
    var linkPorts = Startup.BindLinkPorts(o);   // the last check that can fail: nothing is said before a one-line error
    var fds = FileDescriptors.RaiseToHardLimit();
    var maxFlows = fds is { } f ? FileDescriptors.MaxClientFlows(f.After) : int.MaxValue;
    if (fds is { } limits)
        Say($"file descriptors: limit {limits.After}{(limits.Before < limits.After ? $" (raised from {limits.Before})" : "")}; "
            + $"client flows at most {maxFlows} at once, {FileDescriptors.Reserve(limits.After)} descriptors kept for links and the control plane");
    parts = new NodeParts(identity, linkPorts, trust, maxFlows)
    {
        DescriptorsLow = fds is { } l && l.After < int.MaxValue && FileDescriptors.CanCount ? new FileDescriptors.Watch(l.After).Low : null,
        Routes = routes,
    };
}
catch (Exception e) when (e is StartupException or ApiTokenException)
{
    dns?.Dispose();
    Console.Error.WriteLine($"Mesh.Node: {e.Message}");
    return 2;
}

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

Say($"Mesh {Mesh.Contracts.MeshVersion.Current}, " + (o.IsCore
    ? $"core gateway, link ports {string.Join(", ", o.Listen)}, cluster address akka.ssl.tcp://mesh@{new HostPort(o.AdvertisedHost, o.EffectiveClusterPort)}"
      + (o.Join.Count > 0 ? $", seeds {string.Join(", ", o.Join)}" : ", founding the cluster")
      + (o.HostsDirector ? $", may host the director ({o.ConfigPath})" : "")
    : $"edge gateway{(o.AcceptsLinks ? $", link ports {string.Join(", ", o.Listen)} (other edges may link with it directly)" : "")}, "
      + $"reaching the director through {string.Join(", ", [.. o.Join.Select(j => j.ToString()), .. o.JoinDns.Select(n => $"dns:{n}")])}"
      + (o.DnsResolver is { } resolver ? $" (looked up on {resolver})" : "")));
if (dns is not null) Say($"DNS on {o.Dns} (udp and tcp): the mesh's names under .mesh from this gateway's route table");
using var dnsServer = dns;
try { await MeshNode.RunAsync(o, parts, Say, stop.Token, redisPassword); }
catch (IOException e) when (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"Mesh.Node: a port is in use: {e.Message}");
    return 2;
}
Say("stopped");
return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;   // leave the cluster gracefully instead of dying mid-handover
    if (stop.IsCancellationRequested) return;
    Say($"stopping ({context.Signal}){(o.IsCore ? ": leaving the cluster" : "")}");
    stop.Cancel();
}

void Say(string line)
{
    if (!o.JsonLogs) Mesh.Node.Logging.TextLogger.Write(Console.Out, "INFO", line);
    else Mesh.Node.Logging.JsonLines.Write(DateTime.UtcNow, "info", "Mesh.Node", line);
}

void Warn(string line)
{
    if (!o.JsonLogs) Mesh.Node.Logging.TextLogger.Write(Console.Error, "WARNING", line);
    else Mesh.Node.Logging.JsonLines.Write(DateTime.UtcNow, "warning", "Mesh.Node", line);
}

// The Redis password: never needed in argv (ps shows it); a password in --redis still works, with a warning.
string? RedisPassword(NodeOptions options)
{
    if (options.Redis is null) return null;
    if (options.Redis.Contains("password=", StringComparison.OrdinalIgnoreCase))
        Warn("--redis holds a password: every user of this host can read it in the process list; put it in --redis-password-file FILE or MESH_REDIS_PASSWORD");
    if (options.RedisPasswordFile is { } file)
        return File.ReadLines(file).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0)
               ?? throw new StartupException($"--redis-password-file {file}: the file holds no password (it is empty or blank)");
    return Environment.GetEnvironmentVariable("MESH_REDIS_PASSWORD") is { Length: > 0 } env ? env : null;
}

static int CheckConfig(string path, bool quietWhenValid = false)
{
    var result = RouteMapLoader.LoadFile(path);
    if (!result.IsValid)
    {
        foreach (var e in result.Errors) Console.Error.WriteLine(e);
        Console.Error.WriteLine($"{path}: {Plural.Count(result.Errors.Count, "error")}");
        return 2;
    }
    var map = result.Map!;
    if (!quietWhenValid)
    {
        Console.WriteLine($"{path}: valid: mesh {map.MeshName}, {Plural.Count(map.Gateways.Count, "gateway")} "
            + $"({map.Gateways.Values.Count(g => g.Kind == GatewayKind.Core)} core), {Plural.Count(map.Services.Count, "service")}, {Plural.Count(map.Entries.Length, "entry", "entries")}");
        foreach (var warning in ConfigWarnings.Of(map)) Console.WriteLine($"{path}: warning: {warning}");
    }
    return 0;
}
