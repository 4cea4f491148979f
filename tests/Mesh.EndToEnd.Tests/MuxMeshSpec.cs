using System.Net.Sockets;
using System.Text.RegularExpressions;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>The test mesh of real processes with <c>link_mode = "mux"</c>: flows are streams of a few TLS connections per peer.</summary>
public sealed class MuxMeshFixture : IAsyncLifetime
{
    public EchoServer Echo { get; } = new();
    public TestMesh Mesh { get; } = new();
    /// <summary>core1's entry for echo-pooled: the echo service at edge1, whose own link_mode is "pool".</summary>
    public int PooledEntry { get; } = FreePorts.Next();

    public async Task InitializeAsync()
    {
        await Mesh.StartAsync(Echo.Port, downPort: FreePorts.Next(), linkMode: "mux", moreServices: $$"""
            [services.echo-pooled]
            gateway = "edge1"
            target = "127.0.0.1:{{Echo.Port}}"
            link_mode = "pool"
            """, moreEntries: $$"""
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{PooledEntry}}"
            service = "echo-pooled"
            """);
        await Mesh.ReadyForFlowsAsync();
    }

    public async Task DisposeAsync()
    {
        await Mesh.DisposeAsync();
        await Echo.DisposeAsync();
    }
}

/// <summary>
/// In link mode mux every way a flow travels (core to edge behind NAT, edge to core, edge to edge through a
/// core relay) carries its bytes whole, and the flows ride on streams, not on pooled connections.
/// </summary>
public sealed class MuxMeshSpec(MuxMeshFixture fixture) : IClassFixture<MuxMeshFixture>
{
    private TestMesh Mesh => fixture.Mesh;

    private async Task AssertComesBackWhole(int entry, long size)
    {
        var (sent, received, bytes) = await ClientFlows.RoundTripAsync(await ClientFlows.ConnectAsync(entry), size);
        Assert.True(bytes == size, $"{bytes} of {size} bytes came back; gateway warnings:\n{Mesh.Warnings()}");
        Assert.Equal(sent, received);
    }

    /// <summary>Flows opened as streams of multiplexed links, by each of <paramref name="gateways"/> towards <paramref name="peer"/>, in all.</summary>
    private async Task<long> StreamsOpened(string[] gateways, string peer)
    {
        long sum = 0;
        foreach (var gateway in gateways.Where(g => g != peer))
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Mesh.MetricsPorts[gateway]}") };
            var match = Regex.Match(await http.GetStringAsync("/metrics"), $@"mesh_link_streams_total\{{peer=""{peer}""\}} (\d+)");
            sum += match.Success ? long.Parse(match.Groups[1].Value) : 0;
        }
        return sum;
    }

    private Task<long> StreamsOpened(string gateway, string peer) => StreamsOpened([gateway], peer);
    private static readonly string[] Cores = ["core1", "core2"];


    /// <summary>
    /// Multiplexed sessions come up a moment after the pools (they are dialed beside them): until then a flow
    /// goes through the pool. Waits until a flow through <paramref name="entry"/> is opened as a stream by <paramref name="gateway"/>.
    /// </summary>
    private Task StreamsInUse(int entry, string gateway, string peer) => StreamsInUse(entry, () => StreamsOpened(gateway, peer), $"{gateway} to {peer}");

    private async Task StreamsInUse(int entry, Func<Task<long>> streams, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var before = await streams();
            Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(entry), TimeSpan.FromSeconds(10)));
            if (await streams() > before) return;
            Assert.True(DateTime.UtcNow < until, $"no stream opened {what} within 30 s; warnings:\n{Mesh.Warnings()}");
        }
    }

    [Fact]
    public async Task Bytes_come_back_whole_core_to_an_edge_behind_nat_on_streams_the_edge_dialed()
    {
        await StreamsInUse(Mesh.EchoEntry, "core1", "edge1");
        var before = await StreamsOpened("core1", "edge1");
        await AssertComesBackWhole(Mesh.EchoEntry, 64L << 20);
        Assert.Equal(before + 1, await StreamsOpened("core1", "edge1"));
    }

    [Fact]
    public async Task A_service_whose_link_mode_is_pool_goes_through_the_pool_in_a_mux_mesh()
    {
        await StreamsInUse(Mesh.EchoEntry, "core1", "edge1");   // core1's sessions to edge1 are up
        var before = await StreamsOpened("core1", "edge1");
        for (var i = 0; i < 20; i++)
            Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(fixture.PooledEntry), TimeSpan.FromSeconds(10)), $"flow {i} failed");
        Assert.Equal(before, await StreamsOpened("core1", "edge1"));
    }

    [Fact]
    public async Task Bytes_come_back_whole_edge_to_core()
    {
        await StreamsInUse(Mesh.Echo2Entry, "edge1", "core2");
        await AssertComesBackWhole(Mesh.Echo2Entry, 32L << 20);
    }

    [Fact]
    public async Task Bytes_come_back_whole_between_two_edges_through_a_core_relay_on_streams_both_ways()
    {
        await StreamsInUse(Mesh.Echo3Entry, () => StreamsOpened(Cores, "edge2"), "by the relay to edge2");
        await StreamsInUse(Mesh.Echo3Entry, async () => await StreamsOpened("edge1", "core1") + await StreamsOpened("edge1", "core2"), "by edge1 to the relay");
        await AssertComesBackWhole(Mesh.Echo3Entry, 32L << 20);
    }

    [Fact]
    public async Task Two_hundred_concurrent_flows_and_three_hundred_in_a_row_all_complete_byte_exact()
    {
        await StreamsInUse(Mesh.EchoEntry, "core1", "edge1");
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
            await ClientFlows.RoundTripAsync(await ClientFlows.ConnectAsync(Mesh.EchoEntry), 256 << 10)));
        Assert.All(results, r => Assert.Equal(r.Sent, r.Received));
        for (var i = 0; i < 300; i++)
            Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(Mesh.EchoEntry), TimeSpan.FromSeconds(10)), $"flow {i} failed");
    }
}
