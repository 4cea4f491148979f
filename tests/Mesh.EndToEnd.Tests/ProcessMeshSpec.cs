using System.Text.RegularExpressions;

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
        await _mesh.AllAsync(
            _mesh.Core1.WaitForLineAsync(l => Table(l, "core1", "listening on 3 entries, owning 0 services"), TestMesh.Ready),
            _mesh.Core2.WaitForLineAsync(l => Table(l, "core2", "listening on 0 entries, owning 2 services"), TestMesh.Ready),
            _mesh.Edge1.WaitForLineAsync(l => Table(l, "edge1", "listening on 2 entries, owning 1 service"), TestMesh.Ready),
            _mesh.Edge2.WaitForLineAsync(l => Table(l, "edge2", "listening on 0 entries, owning 1 service"), TestMesh.Ready));
        Assert.Contains("route map v1", _mesh.Core1.Output + _mesh.Core2.Output);
    }

    /// <summary>Revision 1 of the config; ".N" when links tested at start-up changed the paths N times.</summary>
    private static bool Table(string line, string gateway, string content) =>
        Regex.IsMatch(line, $@"gateway {gateway}: route table v1(\.\d+)?: {content}$");
}
