using Akka.Actor;
using Mesh.Contracts.Routing;
using Mesh.Director;
using Mesh.Director.Store;

namespace Mesh.ControlPlane.Tests;

/// <summary>Link reports reach the director at most once and not always in order: the newest one counts.</summary>
public sealed class LinkReportOrderSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO")
{
    [Fact]
    public async Task An_old_report_delivered_after_a_newer_one_does_not_bring_a_dead_link_back()
    {
        var dir = Directory.CreateTempSubdirectory("mesh-order-").FullName;
        var config = Path.Combine(dir, "mesh.toml");
        await File.WriteAllTextAsync(config, TestMesh.Config);
        var director = Sys.ActorOf(DirectorActor.Props(DirectorSettings.For(config), new FileDirectorStore(Path.Combine(dir, "state.json")), mediator: null));

        await director.Ask<LinkReportReceived>(new LinkReport("edge1", 20, [new LinkStatus("core1", false, null)]), TimeSpan.FromSeconds(10));
        await director.Ask<LinkReportReceived>(new LinkReport("edge1", 19, [new LinkStatus("core1", true, 0.2)]), TimeSpan.FromSeconds(10));

        var view = await director.Ask<MeshView>(GetMeshView.Instance, TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(view.Links, l => l.A == "core1" && l.B == "edge1");
        Assert.Contains(view.Links, l => l.A == "core2" && l.B == "edge1");
    }
}
