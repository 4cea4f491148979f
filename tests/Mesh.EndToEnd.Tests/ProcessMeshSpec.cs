namespace Mesh.EndToEnd.Tests;

/// <summary>Real Mesh.Node processes, two core and one edge, on loopback: each logs its route table.</summary>
public sealed class ProcessMeshSpec : IAsyncLifetime
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-e2e-").FullName;
    private readonly List<NodeProcess> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Two_core_gateways_and_an_edge_each_log_their_route_table()
    {
        var config = Path.Combine(_dir, "mesh.toml");
        await File.WriteAllTextAsync(config, """
            [mesh]
            name = "e2e"
            [gateways.core1]
            links = ["127.0.0.1:27441"]
            [gateways.core2]
            links = ["127.0.0.1:27442"]
            [gateways.edge1]
            [services.echo]
            gateway = "edge1"
            target = "127.0.0.1:27500"
            [services.db]
            gateway = "core2"
            target = "127.0.0.1:27501"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:27600"
            service = "echo"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:27601"
            service = "db"
            [[entries]]
            gateway = "edge1"
            listen = "127.0.0.1:27602"
            service = "db"
            """);
        var (p1, p2) = (NodeProcess.FreePort(), NodeProcess.FreePort());
        var join = $"127.0.0.1:{p1},127.0.0.1:{p2}";

        var core1 = Start("core1", "--listen", "127.0.0.1:27441", "--cluster-port", $"{p1}", "--join", join, "--config", config);
        var core2 = Start("core2", "--listen", "127.0.0.1:27442", "--cluster-port", $"{p2}", "--join", join, "--config", config);
        var edge1 = Start("edge1", "--join", join);

        await Task.WhenAll(
            core1.WaitForLineAsync(l => l.Contains("gateway core1: route table v1: listening on 2 entries, owning 0 services"), Ready),
            core2.WaitForLineAsync(l => l.Contains("gateway core2: route table v1: listening on 0 entries, owning 1 service"), Ready),
            edge1.WaitForLineAsync(l => l.Contains("gateway edge1: route table v1: listening on 1 entry, owning 1 service"), Ready));
        Assert.Contains("route map v1", core1.Output + core2.Output);
    }

    private NodeProcess Start(string name, params string[] args)
    {
        var node = NodeProcess.Start(name, _dir, ["--name", name, .. args]);
        _nodes.Add(node);
        return node;
    }
}
