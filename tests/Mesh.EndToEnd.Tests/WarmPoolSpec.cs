using System.Text.RegularExpressions;
using Mesh.Tests.Shared;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A client that opens connections one after another (a MySQL client, a script, a pool that reconnects)
/// is carried by the warm link connections: each flow takes one and gives it back, and nothing is dialed
/// for it. Seen before: 300 sequential connections made the edge dial ~300 TLS connections; and 50 clients
/// each opening a connection per request made a gateway dial one for every second flow.
/// </summary>
public sealed class WarmPoolSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Flows = 300, PoolSize = 4, Clients = 40, FlowsPerClient = 15;
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();
    private HttpClient _edge1 = null!;

    public async Task InitializeAsync()
    {
        await _mesh.StartAsync(_echo.Port, FreePorts.Next());
        await _mesh.ReadyForFlowsAsync();
        _edge1 = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_mesh.MetricsPorts["edge1"]}") };
    }

    public async Task DisposeAsync()
    {
        _edge1?.Dispose();
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }

    /// <summary>Link connections edge1 dialed to core1 so far (it dials every connection of that link: it is behind NAT).</summary>
    private async Task<long> Edge1DialsToCore1()
    {
        var match = Regex.Match(await _edge1.GetStringAsync("/metrics"), @"mesh_link_dials_total\{peer=""core1""\} (\d+)");
        return match.Success ? long.Parse(match.Groups[1].Value) : 0;
    }

    [Fact]
    public async Task Connections_opened_one_after_another_reuse_the_warm_link_connections_without_a_dial_each()
    {
        Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_mesh.EchoEntry), TimeSpan.FromSeconds(10)));   // core1's entry -> echo at edge1
        var before = await Edge1DialsToCore1();
        for (var i = 0; i < Flows; i++)
            Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_mesh.EchoEntry), TimeSpan.FromSeconds(10)), $"flow {i} failed");
        var dials = await Edge1DialsToCore1() - before;
        output.WriteLine($"{Flows} flows in a row through core1's entry to edge1's echo: edge1 dialed {dials} link connections to core1 meanwhile");
        Assert.True(dials <= PoolSize, $"edge1 dialed {dials} link connections for {Flows} sequential flows (pool_size {PoolSize})");
    }

    [Fact]
    public async Task Many_clients_opening_a_connection_per_request_reuse_the_link_connections_the_pool_grew_to()
    {
        Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_mesh.EchoEntry), TimeSpan.FromSeconds(10)));
        var before = await Edge1DialsToCore1();
        var failed = 0;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            for (var i = 0; i < FlowsPerClient; i++)
                if (!await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_mesh.EchoEntry), TimeSpan.FromSeconds(10))) Interlocked.Increment(ref failed);
        }));
        var dials = await Edge1DialsToCore1() - before;
        output.WriteLine($"{Clients} clients x {FlowsPerClient} flows each, at once: edge1 dialed {dials} link connections to core1 meanwhile");
        Assert.Equal(0, failed);
        // The pool grows to about the flows in use at once (Clients); a cap that closed what came back made it
        // dial again for every second flow (~300 here).
        Assert.True(dials <= 2 * Clients, $"edge1 dialed {dials} link connections for {Clients * FlowsPerClient} flows of {Clients} clients at once (pool_size {PoolSize})");
    }
}
