using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Control;
using Mesh.Gateway.Tunnel;
using Mesh.Tests.Shared;

namespace Mesh.Gateway.Tests;

/// <summary>
/// A gateway that owns a real redis-server: it probes it, reports down and up to the director (here the
/// test), and its entry refuses new flows at once while the service is down.
/// </summary>
public sealed class GatewayHealthSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO")
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200), ProbeTimeout = TimeSpan.FromMilliseconds(300);
    private const int Rise = 2, Fall = 2;

    /// <summary>Whatever the gateway sends the director arrives at the test actor.</summary>
    private sealed class ToTestActor(IActorRef testActor) : IDirectorChannel
    {
        public void Send(object message) => testActor.Tell(message);
        public void RestartControlPlane(string reason) { }
    }

    private IActorRef Gateway() => Sys.ActorOf(GatewayActor.Props(
        GatewaySettings.Core("gw") with { DataPlane = new DataPlaneSettings(TestGateway.Identity("gw"), LinkServers: []) }, new ToTestActor(TestActor)));

    private static RouteTable Table(int entry, int redisPort, params DownService[] down) => new(1, "test", "gw", true,
        [new ListenEntry($"127.0.0.1:{entry}", "cache", "gw"), new ListenEntry($"127.0.0.1:{entry + 1}", "remote", "other")],
        [new OwnedService("cache", $"127.0.0.1:{redisPort}", new CheckSpec("redis", Interval, ProbeTimeout, Rise, Fall, null))],
        [new GatewayInfo("gw", true, ["127.0.0.1:1"]), new GatewayInfo("other", true, [$"127.0.0.1:{FreePorts.Next()}"])],
        [new ServiceInfo("cache", "gw"), new ServiceInfo("remote", "other")],
        new FlowSettings(PoolSize: 0, FlowIdleTimeout: TimeSpan.FromHours(1), DialTimeout: TimeSpan.FromSeconds(2)),
        [new NextHop("other", "other")], down);

    private async Task<ServiceHealth> ReportOf(string service, HealthState state, TimeSpan within)
    {
        var report = await FishForMessageAsync<HealthReport>(r => r.Services.Any(s => s.Service == service && s.State == state), within);
        return report.Services.Single(s => s.Service == service);
    }

    private static int EntryPorts()
    {
        while (true)
        {
            var p = FreePorts.Next();
            if (p < 65535 && CanBind(p + 1)) return p;
        }
        static bool CanBind(int port)
        {
            try
            {
                using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                l.Start();
                return true;
            }
            catch (SocketException) { return false; }
        }
    }

    private static async Task<string> Ping(Socket s)
    {
        await s.SendAsync("PING\r\n"u8.ToArray());
        var buffer = new byte[7];
        var n = 0;
        while (n < buffer.Length)
        {
            var got = await s.ReceiveAsync(buffer.AsMemory(n));
            if (got == 0) break;
            n += got;
        }
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    [RedisFact]
    public async Task A_killed_redis_is_reported_down_its_entry_refuses_at_once_and_both_recover_when_it_is_back()
    {
        await using var redis = new RedisServer();
        await redis.StartAsync();
        var entry = EntryPorts();
        var closed = CreateTestProbe();
        Sys.EventStream.Subscribe(closed.Ref, typeof(TunnelClosed));
        Gateway().Tell(Table(entry, redis.Port));

        await ReportOf("cache", HealthState.Up, TimeSpan.FromSeconds(10));
        await AwaitAssertAsync(async () =>
        {
            using var s = await TestGateway.Connect(entry);
            Assert.Equal("+PONG\r\n", await Ping(s));
        }, TimeSpan.FromSeconds(10));
        using var open = await TestGateway.Connect(entry);   // a flow open before the outage
        Assert.Equal("+PONG\r\n", await Ping(open));

        var killed = Stopwatch.StartNew();
        await redis.StopAsync();
        var down = await ReportOf("cache", HealthState.Down, TimeSpan.FromSeconds(10));
        // fall failed probes, one interval apart, each refused at once: within (fall + 1) intervals, plus scheduling
        Assert.True(killed.Elapsed < (Fall + 1) * Interval + ProbeTimeout + TimeSpan.FromSeconds(1), $"down reported after {killed.Elapsed}");
        Assert.Contains("connection refused", down.Reason);

        var refused = Stopwatch.StartNew();
        using (var client = await TestGateway.Connect(entry))
        {
            var n = await client.ReceiveAsync(new byte[8].AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(0, n);
        }
        Assert.True(refused.Elapsed < TimeSpan.FromSeconds(1), $"the client waited {refused.Elapsed} to be refused");
        var ended = await closed.FishForMessageAsync<TunnelClosed>(t => t.Outcome.End == Flows.FlowEnd.Refused, TimeSpan.FromSeconds(5));
        Assert.Contains("cache is down: ", ended.Outcome.Detail);

        var started = Stopwatch.StartNew();
        await redis.StartAsync();
        await ReportOf("cache", HealthState.Up, TimeSpan.FromSeconds(10));
        Assert.True(started.Elapsed < (Rise + 1) * Interval + TimeSpan.FromSeconds(1), $"up reported after {started.Elapsed}");
        using var after = await TestGateway.Connect(entry);
        Assert.Equal("+PONG\r\n", await Ping(after));
    }

    [RedisFact]
    public async Task A_service_the_director_reports_down_elsewhere_is_refused_at_the_entry_without_asking_its_owner()
    {
        await using var redis = new RedisServer();
        await redis.StartAsync();
        var entry = EntryPorts();
        var closed = CreateTestProbe();
        Sys.EventStream.Subscribe(closed.Ref, typeof(TunnelClosed));
        Gateway().Tell(Table(entry, redis.Port, new DownService("remote", "GET /health answered 503 Service Unavailable")));

        Socket? client = null;
        await AwaitAssertAsync(async () => client = await TestGateway.Connect(entry + 1), TimeSpan.FromSeconds(10));
        var n = await client!.ReceiveAsync(new byte[8].AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, n);
        var ended = await closed.ExpectMsgAsync<TunnelClosed>(TimeSpan.FromSeconds(5));
        Assert.Equal("ServiceDown: remote is down: GET /health answered 503 Service Unavailable", ended.Outcome.Detail);
        client.Dispose();
    }
}
