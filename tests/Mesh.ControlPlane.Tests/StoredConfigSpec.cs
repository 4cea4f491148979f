using Akka.Actor;
using Akka.Cluster;
using Mesh.Contracts;
using Mesh.Contracts.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// The stored config is the truth (ADR 0009), kept by the core gateways' replicated store (ADR 0012): an edit
/// applied by one director is what the next one serves, whatever its own copy of the file says.
/// </summary>
public sealed class StoredConfigSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO"), IAsyncLifetime
{
    private static readonly TimeSpan Formed = TimeSpan.FromSeconds(30);
    private readonly TestMesh _mesh = new(cores: 3);

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task An_edit_on_the_directors_copy_is_what_the_next_director_serves_though_its_own_copy_is_older()
    {
        var (sys1, _) = _mesh.StartCore(1, ownConfigCopy: true);
        var (sys2, _) = _mesh.StartCore(2, ownConfigCopy: true);
        _mesh.StartCore(3, ownConfigCopy: true);
        await AwaitAssertAsync(() => Assert.Equal(3, Cluster.Get(sys1).State.Members.Count(m => m.Status == MemberStatus.Up)), Formed);
        var proxy2 = await sys2.ActorSelection($"/user/{ActorPaths.DirectorProxyName}").ResolveOne(TimeSpan.FromSeconds(3));
        var first = await DirectorStatus(proxy2, s => s.Version == 1);

        // The operator edits the director's copy only: a new entry for echo on core3.
        var edited = (await File.ReadAllTextAsync(_mesh.ConfigCopy(1))) + "\n[[entries]]\ngateway = \"core3\"\nlisten = \"127.0.0.1:17699\"\nservice = \"echo\"\n";
        await File.WriteAllTextAsync(_mesh.ConfigCopy(1), edited);
        await DirectorStatus(proxy2, s => s.Version == 2);

        await Cluster.Get(sys1).LeaveAsync();   // the director moves; core2's own copy is the old file
        var second = await DirectorStatus(proxy2, s => s.Node != first.Node);
        Assert.Equal(2, second.Version);   // the stored revision, not core2's file as a new revision 3
        Assert.True(second.FileDiffers);
        Assert.Contains(first.Node.Split('@')[1], second.Source);   // applied from core1's file
        var table = await proxy2.Ask<GatewayRoutes>(new GetGatewayRoutes("core3"), TimeSpan.FromSeconds(5));
        Assert.Contains(table.Table!.Entries, e => e.Listen == "127.0.0.1:17699");
    }

    [Fact]
    public async Task A_pushed_config_is_validated_stored_and_published_and_an_invalid_one_changes_nothing()
    {
        var (sys1, _) = _mesh.StartCore(1);
        var proxy = await sys1.ActorSelection($"/user/{ActorPaths.DirectorProxyName}").ResolveOne(TimeSpan.FromSeconds(3));
        await DirectorStatus(proxy, s => s.Version == 1);

        var broken = await proxy.Ask<DirectorStatus>(new PushConfig("[mesh]\nname = \"test\"\npool_size = \"many\"\n", "a test"), TimeSpan.FromSeconds(10));
        Assert.Equal(1, broken.Version);
        Assert.Contains("pushed config:3: mesh.pool_size: must be an integer", broken.ConfigErrors[0]);

        var text = (await File.ReadAllTextAsync(_mesh.ConfigPath)).Replace("name = \"test\"", "name = \"test\"\npool_size = 3");
        var pushed = await proxy.Ask<DirectorStatus>(new PushConfig(text, "pushed through the API from 127.0.0.1"), TimeSpan.FromSeconds(10));
        Assert.Equal((2, 0), (pushed.Version, pushed.ConfigErrors.Count));
        Assert.Equal("pushed through the API from 127.0.0.1", pushed.Source);
        Assert.True(pushed.FileDiffers);   // the director's own file still says otherwise, and is not applied
        Assert.Equal(3, (await proxy.Ask<GatewayRoutes>(new GetGatewayRoutes("core1"), TimeSpan.FromSeconds(5))).Table!.Flows.PoolSize);
    }

    private async Task<DirectorStatus> DirectorStatus(IActorRef proxy, Func<DirectorStatus, bool> where)
    {
        DirectorStatus? status = null;
        await AwaitAssertAsync(async () =>
        {
            status = await proxy.Ask<DirectorStatus>(GetDirectorStatus.Instance, TimeSpan.FromSeconds(2));
            Assert.True(where(status), $"director at {status.Node} serves v{status.Version} from {status.Source}");
        }, Formed, TimeSpan.FromMilliseconds(200));
        return status!;
    }
}
