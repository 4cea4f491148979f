using Mesh.Tests.Shared;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Director;
using Mesh.Director.Store;
using Mesh.Gateway;
using Mesh.Node;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// Real Mesh nodes in this test process: each an ActorSystem built by the same code as Mesh.Node
/// (MeshHocon + MeshNode), talking over real loopback sockets.
/// </summary>
public sealed class TestMesh : IAsyncDisposable
{
    public const string Config = """
        [mesh]
        name = "test"
        [gateways.core1]
        links = ["127.0.0.1:17441"]
        [gateways.core2]
        links = ["127.0.0.1:17442"]
        [gateways.core3]
        links = ["127.0.0.1:17443"]
        [gateways.edge1]
        [services.echo]
        gateway = "edge1"
        target = "127.0.0.1:17500"
        [services.db]
        gateway = "core2"
        target = "127.0.0.1:17501"
        check = { kind = "redis" }
        [[entries]]
        gateway = "core1"
        listen = "127.0.0.1:17600"
        service = "echo"
        [[entries]]
        gateway = "core1"
        listen = "127.0.0.1:17601"
        service = "db"
        [[entries]]
        gateway = "edge1"
        listen = "127.0.0.1:17602"
        service = "db"
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-test-").FullName;
    private readonly List<HostPort> _seeds;
    public Dictionary<string, (ActorSystem System, IActorRef Gateway)> Nodes { get; } = [];

    public TestMesh(int cores)
    {
        File.WriteAllText(ConfigPath, Config);
        _seeds = Enumerable.Range(0, cores).Select(_ => new HostPort("127.0.0.1", FreePorts.Next())).ToList();
    }

    public string ConfigPath => Path.Combine(_dir, "mesh.toml");

    /// <summary>Core node i's own copy of the config.</summary>
    public string ConfigCopy(int i) => Path.Combine(_dir, $"mesh-core{i}.toml");

    public IReadOnlyList<HostPort> Seeds => _seeds;

    /// <summary>Starts core node i (1-based) on the i-th seed address, hosting the director if asked.</summary>
    /// <param name="ownConfigCopy">the node reads its own copy of the config (ConfigCopy(i)), as separate hosts would</param>
    public (ActorSystem System, IActorRef Gateway) StartCore(int i, bool director = true, bool ownConfigCopy = false)
    {
        var seed = _seeds[i - 1];
        if (ownConfigCopy && !File.Exists(ConfigCopy(i))) File.Copy(ConfigPath, ConfigCopy(i));
        var o = new NodeOptions($"core{i}")
        {
            Join = _seeds, ClusterPort = seed.Port, Listen = [new HostPort("127.0.0.1", 17440 + i)],
            ConfigPath = director ? ownConfigCopy ? ConfigCopy(i) : ConfigPath : null, StateDir = Path.Combine(_dir, $"core{i}"),
        };
        return Start(o);
    }

    private (ActorSystem, IActorRef) Start(NodeOptions o)
    {
        var system = ActorSystem.Create("mesh", MeshHocon.For(o, tls: false));   // in-process, no certificates: remoting TLS is tested with real processes
        var node = (system, MeshNode.Start(system, o, parts: null));   // control plane only (edges reach it over links: tested with real processes)
        Nodes[o.Name] = node;
        return node;
    }

    /// <summary>
    /// A director alone in <paramref name="system"/>, serving <see cref="Config"/> from <paramref name="dir"/> with a file store
    /// there: a second one in the same folder finds what the first stored, as a director that takes over does.
    /// </summary>
    public static async Task<IActorRef> DirectorIn(ActorSystem system, string dir, Func<DirectorSettings, DirectorSettings>? tune = null)
    {
        var config = Path.Combine(dir, "mesh.toml");
        await File.WriteAllTextAsync(config, Config);
        var settings = tune is null ? DirectorSettings.For(config) : tune(DirectorSettings.For(config));
        return system.ActorOf(DirectorActor.Props(settings, new FileDirectorStore(Path.Combine(dir, "state.json")), mediator: null));
    }

    public static async Task<RouteTable?> TableOf(IActorRef gateway) =>
        (await gateway.Ask<CurrentRouteTable>(GetCurrentRouteTable.Instance, TimeSpan.FromSeconds(3))).Table;


    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Nodes.Values.Select(n => n.System.Terminate()));
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
