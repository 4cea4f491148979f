using System.Net;
using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A burst of flows towards an edge, on a mesh of its own: a thousand connections opened and closed at
/// once leave the links busy for seconds, which the other data-plane tests must not inherit.
/// </summary>
public sealed class BurstSpec : IAsyncLifetime
{
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();

    public async Task InitializeAsync()
    {
        await _mesh.StartAsync(_echo.Port, downPort: FreePorts.Next());
        await _mesh.ReadyForFlowsAsync();
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private static Task<Socket> Connect(int port) => ClientFlows.ConnectAsync(port);

    [Fact]
    public async Task A_thousand_flows_opened_at_once_towards_an_edge_are_all_carried_and_held_together()
    {
        // core1 can only use connections edge1 dialed (it sits behind NAT): edge1 must keep up with the burst.
        const int flows = 1000;
        var clients = await Task.WhenAll(Enumerable.Range(0, flows).Select(_ => Connect(_mesh.EchoEntry)));
        try
        {
            var echoed = await Task.WhenAll(clients.Select(async (s, i) =>
            {
                var message = BitConverter.GetBytes(i);
                await s.SendAsync(message);
                var reply = new byte[4];
                for (var got = 0; got < 4;)
                {
                    var n = await s.ReceiveAsync(reply.AsMemory(got)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                    if (n == 0) return false;
                    got += n;
                }
                return reply.SequenceEqual(message);
            }).Select(async t => { try { return await t; } catch (Exception e) when (e is SocketException or TimeoutException) { return false; } }));
            Assert.True(echoed.All(ok => ok), $"{echoed.Count(ok => ok)} of {flows} flows were carried; warnings:\n{_mesh.Warnings()}");
        }
        finally
        {
            foreach (var s in clients) s.Dispose();
        }
    }
}
