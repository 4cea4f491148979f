using Akka.Actor;
using Akka.Cluster;
using Mesh.Contracts;
using Mesh.Contracts.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// Three core gateways form a cluster, the director singleton starts on one of them, and every gateway,
/// members and an edge that is not a member, receives its own route table.
/// </summary>
public sealed class RouteDistributionSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO"), IAsyncLifetime
{
    private static readonly TimeSpan Formed = TimeSpan.FromSeconds(30);
    private readonly TestMesh _mesh = new(cores: 3);

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Three_core_nodes_form_a_cluster_and_each_gateway_gets_its_own_table()
    {
        var (sys1, gw1) = _mesh.StartCore(1);
        var (_, gw2) = _mesh.StartCore(2);
        var (_, gw3) = _mesh.StartCore(3, director: false);

        await AwaitAssertAsync(() =>
            Assert.Equal(3, Cluster.Get(sys1).State.Members.Count(m => m.Status == MemberStatus.Up)), Formed);

        await AwaitAssertAsync(async () =>
        {
            var t1 = await TestMesh.TableOf(gw1);
            Assert.NotNull(t1);
            Assert.Equal(["127.0.0.1:17600 echo@edge1", "127.0.0.1:17601 db@core2"], t1.Entries.Select(e => $"{e.Listen} {e.Service}@{e.Owner}"));
            Assert.Empty(t1.Owned);
            Assert.Equal(["core1", "core2", "core3", "edge1"], t1.Gateways.Select(g => g.Name));
        }, Formed);
        await AwaitAssertAsync(async () =>
        {
            var t2 = await TestMesh.TableOf(gw2);
            Assert.NotNull(t2);
            var db = Assert.Single(t2.Owned);
            Assert.Equal(("db", "127.0.0.1:17501", "redis"), (db.Name, db.Target, db.Check.Kind));
            Assert.Empty(t2.Entries);
        }, Formed);
        await AwaitAssertAsync(async () =>
        {
            var t3 = await TestMesh.TableOf(gw3);   // a core node that cannot host the director still gets its table
            Assert.NotNull(t3);
            Assert.True(t3.Declared);
            Assert.Empty(t3.Entries);
        }, Formed);
    }

    [Fact]
    public async Task An_edge_that_is_not_a_member_gets_its_table_through_cluster_client()
    {
        var (sys1, _) = _mesh.StartCore(1);
        var (edge, gwEdge) = _mesh.StartEdge("edge1");

        await AwaitAssertAsync(async () =>
        {
            var t = await TestMesh.TableOf(gwEdge);
            Assert.NotNull(t);
            Assert.Equal("127.0.0.1:17602 db@core2", Assert.Single(t.Entries) is var e ? $"{e.Listen} {e.Service}@{e.Owner}" : "");
            Assert.Equal(("echo", "127.0.0.1:17500"), Assert.Single(t.Owned) is var s ? (s.Name, s.Target) : default);
        }, Formed);

        Assert.DoesNotContain(Cluster.Get(sys1).State.Members, m => m.Address.Host == "edge1.edge.mesh");
        Assert.Equal("edge1.edge.mesh", ((ExtendedActorSystem)edge).Provider.DefaultAddress.Host);
    }

    [Fact]
    public async Task A_gateway_the_config_does_not_declare_gets_an_empty_table_marked_undeclared()
    {
        _mesh.StartCore(1);
        var (_, stranger) = _mesh.StartEdge("stranger");

        await AwaitAssertAsync(async () =>
        {
            var t = await TestMesh.TableOf(stranger);
            Assert.NotNull(t);
            Assert.False(t.Declared);
            Assert.Empty(t.Entries);
            Assert.Empty(t.Owned);
        }, Formed);
    }

    [Fact]
    public async Task When_the_director_node_leaves_another_core_node_takes_over_and_gateways_keep_their_tables()
    {
        var (sys1, gw1) = _mesh.StartCore(1);
        var (sys2, gw2) = _mesh.StartCore(2);
        var (_, gwEdge) = _mesh.StartEdge("edge1");
        var proxy2 = await sys2.ActorSelection($"/user/{ActorPaths.DirectorProxyName}").ResolveOne(TimeSpan.FromSeconds(3));

        var first = await AwaitDirector(proxy2);
        Assert.Equal(((ExtendedActorSystem)sys1).Provider.DefaultAddress.ToString(), first.Node);   // the oldest hosts it
        await AwaitAssertAsync(async () => Assert.NotNull(await TestMesh.TableOf(gwEdge)), Formed);
        await AwaitAssertAsync(async () => Assert.NotNull(await TestMesh.TableOf(gw2)), Formed);
        var edgeTable = await TestMesh.TableOf(gwEdge);

        await Cluster.Get(sys1).LeaveAsync();

        var second = await AwaitDirector(proxy2, node => node != first.Node);
        Assert.Equal(((ExtendedActorSystem)sys2).Provider.DefaultAddress.ToString(), second.Node);
        Assert.Equal(first.Version, second.Version);   // the same config, so the same route map
        // The edge keeps its table; the new director's version differs (its own incarnation, ADR 0006), so
        // the edge may fetch it again, with the same content.
        var kept = await TestMesh.TableOf(gwEdge);
        Assert.NotNull(kept);
        Assert.Equal(TableVersion.Revision(edgeTable!.Version), TableVersion.Revision(kept.Version));
        Assert.Equal(edgeTable.Entries, kept.Entries);
        Assert.Equal(edgeTable.Owned.Select(o => o.Name), kept.Owned.Select(o => o.Name));
        Assert.Equal(edgeTable.NextHops, kept.NextHops);
        Assert.NotNull(await TestMesh.TableOf(gw2));
        _ = gw1;
    }

    private async Task<DirectorStatus> AwaitDirector(IActorRef proxy, Func<string, bool>? where = null)
    {
        DirectorStatus? status = null;
        await AwaitAssertAsync(async () =>
        {
            status = await proxy.Ask<DirectorStatus>(GetDirectorStatus.Instance, TimeSpan.FromSeconds(2));
            Assert.True(where?.Invoke(status.Node) ?? true, $"director still on {status.Node}");
        }, Formed, TimeSpan.FromMilliseconds(200));
        return status!;
    }
}
