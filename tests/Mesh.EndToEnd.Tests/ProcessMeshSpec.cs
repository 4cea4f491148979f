namespace Mesh.EndToEnd.Tests;

/// <summary>Real Mesh.Node processes, two core and two edges, on loopback: each logs its route table.</summary>
public sealed class ProcessMeshSpec : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Two_core_gateways_and_two_edges_each_log_their_route_table()
    {
        await _mesh.StartAsync(echoPort: 1, downPort: 2);
        await Task.WhenAll(
            _mesh.Core1.WaitForLineAsync(l => l.Contains("gateway core1: route table v1: listening on 3 entries, owning 0 services"), TestMesh.Ready),
            _mesh.Core2.WaitForLineAsync(l => l.Contains("gateway core2: route table v1: listening on 0 entries, owning 2 services"), TestMesh.Ready),
            _mesh.Edge1.WaitForLineAsync(l => l.Contains("gateway edge1: route table v1: listening on 2 entries, owning 1 service"), TestMesh.Ready),
            _mesh.Edge2.WaitForLineAsync(l => l.Contains("gateway edge2: route table v1: listening on 0 entries, owning 1 service"), TestMesh.Ready));
        Assert.Contains("route map v1", _mesh.Core1.Output + _mesh.Core2.Output);
    }
}
