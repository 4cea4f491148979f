using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Control;
using Mesh.Gateway.Link;
using Mesh.Gateway.Tunnel;
using Mesh.Tests.Shared;
using Mesh.Transport.Security;

namespace Mesh.Gateway.Tests;

/// <summary>
/// A GatewayActor fed route tables directly (as the director would send them), with real sockets:
/// entries follow the table, and a table change never cuts a flow that is already open.
/// </summary>
public sealed class GatewayDataPlaneSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO"), IAsyncLifetime
{
    private sealed class Silent : IDirectorChannel
    {
        public void Send(object message) { }   // the test plays the director
        public void RestartControlPlane(string reason) { }
    }

    private readonly EchoServer _echo = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _echo.DisposeAsync();

    private IActorRef Gateway() => Sys.ActorOf(GatewayActor.Props(
        GatewaySettings.Core("gw") with { DataPlane = new DataPlaneSettings(TestGateway.Identity("gw"), LinkServers: []) }, new Silent()));

    private RouteTable Table(long version, params (int Port, string Service)[] entries) => new(version, "test", "gw", true,
        entries.Select(e => new ListenEntry($"127.0.0.1:{e.Port}", e.Service, e.Service == "remote" ? "other" : "gw")).ToArray(),
        [new OwnedService("echo", $"127.0.0.1:{_echo.Port}", new CheckSpec("tcp", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 2, 3, null))],
        [new GatewayInfo("gw", true, ["127.0.0.1:1"]), new GatewayInfo("other", true, [$"127.0.0.1:{FreePorts.Next()}"])],
        [new ServiceInfo("echo", "gw"), new ServiceInfo("remote", "other")],
        new FlowSettings(PoolSize: 0, FlowIdleTimeout: TimeSpan.FromHours(1), DialTimeout: TimeSpan.FromSeconds(2)),
        [new NextHop("other", "other")]);


    private static async Task<string> Echo(Socket s, string text)
    {
        await s.SendAsync(Encoding.ASCII.GetBytes(text));
        var buffer = new byte[text.Length];
        var n = 0;
        while (n < buffer.Length) n += await s.ReceiveAsync(buffer.AsMemory(n));
        return Encoding.ASCII.GetString(buffer);
    }

    [Fact]
    public async Task Entries_follow_the_route_table_and_an_open_flow_survives_the_change()
    {
        var (a, b) = (FreePorts.Next(), FreePorts.Next());
        var gateway = Gateway();
        gateway.Tell(Table(1, (a, "echo")));

        Socket? open = null;
        await AwaitAssertAsync(async () => open = await TestGateway.Connect(a), TimeSpan.FromSeconds(10));
        Assert.Equal("before", await Echo(open!, "before"));

        gateway.Tell(Table(2, (b, "echo")));   // a is removed, b is added

        await AwaitAssertAsync(async () => await Assert.ThrowsAsync<SocketException>(() => TestGateway.Connect(a)), TimeSpan.FromSeconds(10));
        await AwaitAssertAsync(async () =>
        {
            using var s = await TestGateway.Connect(b);
            Assert.Equal("new entry", await Echo(s, "new entry"));
        }, TimeSpan.FromSeconds(10));
        Assert.Equal("after", await Echo(open!, "after"));   // the flow on the removed entry goes on
        open!.Dispose();
    }

    [Fact]
    public async Task A_flow_to_a_peer_that_cannot_be_reached_resets_the_client_and_says_why()
    {
        var port = FreePorts.Next();
        var closed = CreateTestProbe();
        Sys.EventStream.Subscribe(closed.Ref, typeof(TunnelClosed));
        var gateway = Gateway();
        gateway.Tell(Table(1, (port, "remote")));

        Socket? s = null;
        await AwaitAssertAsync(async () => s = await TestGateway.Connect(port), TimeSpan.FromSeconds(10));
        var reset = await Assert.ThrowsAsync<SocketException>(() => s!.ReceiveAsync(new byte[8].AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SocketError.ConnectionReset, reset.SocketErrorCode);   // reset at once: never a clean end, never left hanging
        var ended = await closed.ExpectMsgAsync<TunnelClosed>(TimeSpan.FromSeconds(10));
        Assert.Contains("no link to other", ended.Outcome.Detail);
        s!.Dispose();
    }

    [Theory]
    [InlineData(1, 100, 200)]
    [InlineData(2, 200, 400)]
    [InlineData(30, 1500, 3000)]
    public void Link_retries_back_off_exponentially_with_jitter_up_to_a_cap(int failures, int minMs, int maxMs)
    {
        for (var i = 0; i < 50; i++)
        {
            var t = LinkActor.Backoff(failures).TotalMilliseconds;
            Assert.InRange(t, minMs, maxMs);
        }
    }
}
