using Akka.Actor;
using Akka.Cluster;
using Mesh.Contracts;
using Mesh.Contracts.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// Three core gateways form a cluster, the director singleton starts on one of them, and every member
/// receives its own route table (edges get theirs over links: the end-to-end and sites suites).
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
    public async Task A_gateway_the_config_does_not_declare_gets_no_table_and_costs_the_director_nothing()
    {
        var (sys1, _) = _mesh.StartCore(1);
        var proxy = await sys1.ActorSelection($"/user/{ActorPaths.DirectorProxyName}").ResolveOne(TimeSpan.FromSeconds(3));
        await AwaitDirector(proxy);

        var asked = await proxy.Ask<IRoutingMessage>(new GetRouteTable("stranger", 0, TimeSpan.Zero), TimeSpan.FromSeconds(5));
        Assert.Contains("does not declare gateway 'stranger'", Assert.IsType<RouteTableUnavailable>(asked).Reason);
        Assert.Null((await proxy.Ask<GatewayRoutes>(new GetGatewayRoutes("stranger"), TimeSpan.FromSeconds(5))).Table);
        Assert.NotNull((await proxy.Ask<GatewayRoutes>(new GetGatewayRoutes("edge1"), TimeSpan.FromSeconds(5))).Table);
        var view = await proxy.Ask<MeshView>(GetMeshView.Instance, TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(view.Gateways, g => g.Name == "stranger");
        Assert.Null(view.Gateways.Single(g => g.Name == "edge1").LastSeen);   // the API asking for edge1's table is not edge1 being heard from
    }

    [Fact]
    public async Task When_the_director_node_leaves_another_core_node_takes_over_and_gateways_keep_their_tables()
    {
        var (sys1, gw1) = _mesh.StartCore(1);
        var (sys2, gw2) = _mesh.StartCore(2);
        var proxy2 = await sys2.ActorSelection($"/user/{ActorPaths.DirectorProxyName}").ResolveOne(TimeSpan.FromSeconds(3));

        var first = await AwaitDirector(proxy2);
        Assert.Equal(((ExtendedActorSystem)sys1).Provider.DefaultAddress.ToString(), first.Node);   // the oldest hosts it
        await AwaitAssertAsync(async () => Assert.NotNull(await TestMesh.TableOf(gw2)), Formed);
        var before = await TestMesh.TableOf(gw2);

        await Cluster.Get(sys1).LeaveAsync();

        var second = await AwaitDirector(proxy2, node => node != first.Node);
        Assert.Equal(((ExtendedActorSystem)sys2).Provider.DefaultAddress.ToString(), second.Node);
        Assert.Equal(first.Version, second.Version);   // the same config, so the same route map
        // core2 keeps its table until the new director's, which orders after it (ADR 0013: versions only
        // grow, so the gateway takes it, and `mesh routes` never reads lower), with the same content.
        RouteTable? kept = null;
        await AwaitAssertAsync(async () =>
        {
            kept = await TestMesh.TableOf(gw2);
            Assert.True(kept!.Version > before!.Version, $"core2 holds {TableVersion.Text(kept.Version)}, not one after {TableVersion.Text(before.Version)}");
        }, Formed, TimeSpan.FromMilliseconds(200));
        Assert.Equal(TableVersion.Revision(before!.Version), TableVersion.Revision(kept!.Version));
        Assert.Equal(before.Entries, kept.Entries);
        Assert.Equal(before.Owned.Select(o => o.Name), kept.Owned.Select(o => o.Name));
        Assert.Equal(before.NextHops, kept.NextHops);
        _ = gw1;
    }

    [Fact]
    public async Task A_table_larger_than_akka_remotings_default_frame_reaches_a_core_gateway_on_another_node()
    {
        // 3,000 services: core2's table is ~200 KB, over Akka.Remote's default 128,000-byte frame, which dropped it
        // (OversizedPayloadException, logged by Akka only) and left core2 asking for it forever
        var services = string.Concat(Enumerable.Range(0, 3000).Select(i =>
            $"[services.a-service-with-a-long-name-{i:D4}]\ngateway = \"edge1\"\ntarget = \"127.0.0.1:{20000 + i}\"\n"));
        await File.WriteAllTextAsync(_mesh.ConfigPath, TestMesh.Config.Replace("[services.echo]", services + "[services.echo]"));
        var (sys1, _) = _mesh.StartCore(1);
        var (_, gw2) = _mesh.StartCore(2, director: false);   // its table crosses the network from core1's director

        RouteTable? table = null;
        await AwaitAssertAsync(async () =>
        {
            table = await TestMesh.TableOf(gw2);
            Assert.NotNull(table);
        }, TimeSpan.FromSeconds(45), TimeSpan.FromMilliseconds(250));
        Assert.Equal(3002, table!.Services.Count);
        var bytes = new Mesh.Node.Serialization.MeshSerializer((ExtendedActorSystem)sys1).ToBinary(table).Length;
        Assert.True(bytes > 128_000, $"the table is only {bytes} bytes: the test proves nothing");
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
