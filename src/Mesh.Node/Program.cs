using System.Runtime.InteropServices;
using Mesh.Config;
using Mesh.Node;
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
if (o.ConfigPath is not null && CheckConfig(o.ConfigPath, quietWhenValid: true) != 0)
    return 2;   // a first load that is invalid stops the node

MeshIdentity identity;
try { identity = MeshIdentity.Load(o.Cert!, o.Key!, o.Ca!); }
catch (MeshIdentityException e)
{
    Console.Error.WriteLine($"Mesh.Node: {e.Message}");
    return 2;
}
if (identity.Name != o.Name)
{
    Console.Error.WriteLine($"Mesh.Node: --cert {o.Cert} is issued to '{identity.Name}', but --name is '{o.Name}'");
    return 2;
}

Mesh.Node.Logging.JsonLines.Node = o.Name;
using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

Say($"Mesh {Mesh.Contracts.MeshVersion.Current}, {(o.IsCore ? "core" : "edge")} gateway, cluster address akka.ssl.tcp://mesh@{o.AdvertisedHost}:{(o.EffectiveClusterPort == 0 ? "(any free port)" : o.EffectiveClusterPort)}"
    + (o.Join.Count > 0 ? $", joining {string.Join(", ", o.Join)}" : ", founding the cluster")
    + (o.HostsDirector ? $", may host the director ({o.ConfigPath})" : ""));
await MeshNode.RunAsync(o, identity, Say, stop.Token);
Say("stopped");
return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;   // leave the cluster gracefully instead of dying mid-handover
    stop.Cancel();
}

void Say(string line)
{
    if (!o.JsonLogs) Console.WriteLine($"Mesh.Node {o.Name}: {line}");
    else Mesh.Node.Logging.JsonLines.Write(DateTime.UtcNow, "info", "Mesh.Node", line);
}

static int CheckConfig(string path, bool quietWhenValid = false)
{
    var result = RouteMapLoader.LoadFile(path);
    if (!result.IsValid)
    {
        foreach (var e in result.Errors) Console.Error.WriteLine(e);
        Console.Error.WriteLine($"{path}: {result.Errors.Count} error{(result.Errors.Count == 1 ? "" : "s")}");
        return 2;
    }
    var map = result.Map!;
    if (!quietWhenValid)
        Console.WriteLine($"{path}: valid: mesh {map.MeshName}, {map.Gateways.Count} gateways "
            + $"({map.Gateways.Values.Count(g => g.Kind == GatewayKind.Core)} core), {map.Services.Count} services, {map.Entries.Length} entries");
    return 0;
}
