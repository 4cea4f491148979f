using Akka.Actor;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;
using Mesh.Director.Store;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// Every report is about its sender (the name a TLS handshake proved): a gateway cannot report another's
/// service or link, cannot lock the owner out with a sequence from no real clock, and what a previous
/// director stored passes the same checks when it is restored.
/// </summary>
public sealed class ReportTrustSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO")
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-trust-").FullName;
    private static long Seq => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

    private Task<IActorRef> Director() => TestMesh.DirectorIn(Sys, _dir);

    private static HealthReport Health(string gateway, long sequence, string service, HealthState state) =>
        new(gateway, sequence, [new ServiceHealth(service, state, state == HealthState.Down ? "forged" : null, DateTimeOffset.UtcNow)]);

    private static async Task<string> HealthOf(IActorRef director, string service) =>
        (await director.Ask<MeshView>(GetMeshView.Instance, Ask)).Services.Single(s => s.Name == service).Health;

    [Fact]
    public async Task A_gateway_reporting_another_gateways_service_down_changes_nothing()
    {
        var director = await Director();
        await director.Ask<HealthReportReceived>(Health("core2", Seq, "db", HealthState.Up), Ask);   // core2 owns db
        await director.Ask<HealthReportReceived>(Health("edge1", Seq + 1, "db", HealthState.Down), Ask);
        Assert.Equal("up", await HealthOf(director, "db"));
        Assert.Empty((await director.Ask<RouteTable>(new GetRouteTable("core1", 0, TimeSpan.Zero), Ask)).DownServices!);
    }

    [Fact]
    public async Task A_link_report_speaks_only_for_links_the_config_declares_from_its_sender()
    {
        var director = await Director();
        // edge1 and another edge have no declared link (edges only dial core gateways); an unknown peer has none at all
        var report = new LinkReport("edge1", Seq, [new LinkStatus("core1", true, 0.2), new LinkStatus("edge1", true, 0.1), new LinkStatus("nobody", true, 0.1)]);
        await director.Ask<LinkReportReceived>(report, Ask);
        var links = (await director.Ask<MeshView>(GetMeshView.Instance, Ask)).Links;
        Assert.DoesNotContain(links, l => l.A == "nobody" || l.B == "nobody" || l.A == l.B);
        Assert.Contains(links, l => l.A == "core1" && l.B == "edge1");
    }

    [Fact]
    public async Task A_sequence_from_no_real_clock_is_refused_and_does_not_lock_the_owner_out()
    {
        var director = await Director();
        director.Tell(Health("core2", long.MaxValue, "db", HealthState.Down));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));   // refused: not even acknowledged
        Assert.NotEqual("down", await HealthOf(director, "db"));
        await director.Ask<HealthReportReceived>(Health("core2", Seq, "db", HealthState.Up), Ask);   // the owner's real report counts
        Assert.Equal("up", await HealthOf(director, "db"));
    }

    [Fact]
    public async Task A_report_from_a_gateway_the_config_does_not_declare_is_refused()
    {
        var director = await Director();
        director.Tell(Health("rogue", Seq, "db", HealthState.Down));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.DoesNotContain((await director.Ask<MeshView>(GetMeshView.Instance, Ask)).Gateways, g => g.Name == "rogue");
    }

    [Fact]
    public async Task A_poisoned_observed_state_in_the_store_is_dropped_on_restore()
    {
        var store = new FileDirectorStore(Path.Combine(_dir, "state.json"));
        var poisoned = new ObservedState(1, [],
            [new LinkReport("edge1", long.MaxValue, [new LinkStatus("core1", false, null)])],
            [Health("edge1", Seq, "db", HealthState.Down), Health("core2", long.MaxValue - 1, "db", HealthState.Down)],
            [new MeshEvent(DateTimeOffset.UtcNow, "warning", "service-down", "db", "line one\nINFO forged line")], DateTimeOffset.UtcNow);
        Assert.True(await store.SaveObservedAsync(poisoned, default));

        var director = await Director();
        var view = await director.Ask<MeshView>(GetMeshView.Instance, Ask);
        Assert.NotEqual("down", view.Services.Single(s => s.Name == "db").Health);   // neither edge1's word about db, nor core2's impossible sequence
        Assert.Contains(view.Links, l => l.A == "core1" && l.B == "edge1");
        Assert.DoesNotContain(view.Events, e => e.Message.Contains('\n'));
        await director.Ask<HealthReportReceived>(Health("core2", Seq, "db", HealthState.Down), Ask);   // and the owner is not locked out
        Assert.Equal("down", await HealthOf(director, "db"));
    }
}
