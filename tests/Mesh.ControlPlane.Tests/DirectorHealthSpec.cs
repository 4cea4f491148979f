using Akka.Actor;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// The director's record of health: services as their owners report them, in every table (so entries
/// refuse at once), events an operator reads, and gateways that fall silent.
/// </summary>
public sealed class DirectorHealthSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO")
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(10);

    private Task<IActorRef> Director(TimeSpan? lostAfter = null) => TestMesh.DirectorIn(Sys, Directory.CreateTempSubdirectory("mesh-health-").FullName,
        s => s with { GatewayLostAfter = lostAfter ?? TimeSpan.FromSeconds(45) });

    private static HealthReport Report(string gateway, long sequence, params (string Service, HealthState State, string? Reason)[] services) =>
        new(gateway, sequence, services.Select(s => new ServiceHealth(s.Service, s.State, s.Reason, DateTimeOffset.UtcNow)).ToArray());

    private static async Task<ServiceView> Service(IActorRef director, string name) =>
        (await director.Ask<MeshView>(GetMeshView.Instance, Ask)).Services.Single(s => s.Name == name);

    private static Task<RouteTable> TableOf(IActorRef director, string gateway) =>
        director.Ask<RouteTable>(new GetRouteTable(gateway, 0, TimeSpan.Zero), Ask);

    [Fact]
    public async Task A_service_its_owner_reports_down_is_down_in_every_table_and_in_the_events_until_it_is_reported_up()
    {
        var director = await Director();
        Assert.Equal(("unknown", "no report from core2 yet"), ((await Service(director, "db")).Health, (await Service(director, "db")).HealthReason));
        var before = (await TableOf(director, "edge1")).Version;

        Assert.Equal(7, (await director.Ask<HealthReportReceived>(Report("core2", 7, ("db", HealthState.Down, "no redis answer within 1s")), Ask)).Sequence);

        var db = await Service(director, "db");
        Assert.Equal(("down", "no redis answer within 1s"), (db.Health, db.HealthReason));
        var table = await TableOf(director, "edge1");
        Assert.NotEqual(before, table.Version);   // a new version: gateways fetch it
        Assert.Equal([new DownService("db", "no redis answer within 1s")], table.DownServices);
        var down = Assert.Single((await director.Ask<MeshView>(GetMeshView.Instance, Ask)).Events, e => e.Kind == "service-down");
        Assert.Equal(("warning", "db", "service db (owned by core2) is down: no redis answer within 1s"), (down.Level, down.Subject, down.Message));

        await director.Ask<HealthReportReceived>(Report("core2", 8, ("db", HealthState.Up, null)), Ask);
        Assert.Equal("up", (await Service(director, "db")).Health);
        Assert.Empty((await TableOf(director, "core1")).DownServices!);
        Assert.Contains((await director.Ask<MeshView>(GetMeshView.Instance, Ask)).Events, e => e.Kind == "service-up" && e.Subject == "db");
    }

    [Fact]
    public async Task Only_the_owners_newest_report_counts()
    {
        var director = await Director();
        await director.Ask<HealthReportReceived>(Report("edge1", 1, ("db", HealthState.Down, "edge1 does not own db")), Ask);
        Assert.Equal("unknown", (await Service(director, "db")).Health);

        await director.Ask<HealthReportReceived>(Report("core2", 20, ("db", HealthState.Up, null)), Ask);
        await director.Ask<HealthReportReceived>(Report("core2", 19, ("db", HealthState.Down, "a resend delivered late")), Ask);
        Assert.Equal("up", (await Service(director, "db")).Health);
        Assert.Empty((await TableOf(director, "core1")).DownServices!);
    }

    [Fact]
    public async Task A_gateway_that_falls_silent_is_lost_its_services_unknown_and_it_is_back_when_heard_again()
    {
        var director = await Director(lostAfter: TimeSpan.FromSeconds(1));
        await director.Ask<HealthReportReceived>(Report("core2", 1, ("db", HealthState.Down, "refused")), Ask);
        var gateway = (await director.Ask<MeshView>(GetMeshView.Instance, Ask)).Gateways.Single(g => g.Name == "core2");
        Assert.True(gateway.Connected);

        await AwaitAssertAsync(async () =>
        {
            var view = await director.Ask<MeshView>(GetMeshView.Instance, Ask);
            Assert.Contains(view.Events, e => e.Kind == "gateway-lost" && e.Subject == "core2");
            Assert.False(view.Gateways.Single(g => g.Name == "core2").Connected);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        var db = await Service(director, "db");
        Assert.Equal(("unknown", "its owner core2 is not heard from"), (db.Health, db.HealthReason));
        Assert.Empty((await TableOf(director, "core1")).DownServices!);   // unknown is not down: entries let flows try

        await director.Ask<HealthReportReceived>(Report("core2", 2, ("db", HealthState.Down, "refused")), Ask);
        var view = await director.Ask<MeshView>(GetMeshView.Instance, Ask);
        Assert.Contains(view.Events, e => e.Kind == "gateway-back" && e.Subject == "core2");
        Assert.True(view.Gateways.Single(g => g.Name == "core2").Connected);
        Assert.Equal("down", (await Service(director, "db")).Health);
    }

    [Fact]
    public async Task The_director_decides_a_gateway_is_lost_by_its_own_clock_so_a_fake_one_replays_45_seconds_of_silence_at_once()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var director = await TestMesh.DirectorIn(Sys, Directory.CreateTempSubdirectory("mesh-health-").FullName,
            s => s with { GatewayLostAfter = TimeSpan.FromSeconds(45), Clock = clock });
        await director.Ask<HealthReportReceived>(Report("core2", 1, ("db", HealthState.Up, null)), Ask);
        clock.Advance(TimeSpan.FromSeconds(46));   // nothing from core2 for 46 s, by the director's clock
        await AwaitAssertAsync(async () =>
        {
            var view = await director.Ask<MeshView>(GetMeshView.Instance, Ask);
            var lost = Assert.Single(view.Events, e => e.Kind == "gateway-lost" && e.Subject == "core2");
            Assert.Contains("not heard from for 46s", lost.Message);
            Assert.Equal(clock.GetUtcNow(), lost.At);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
    }
}
