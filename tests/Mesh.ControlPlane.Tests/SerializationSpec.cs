using Akka.Actor;
using Akka.Configuration;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;
using Mesh.Contracts.Wire;
using Mesh.Node;
using Mesh.Node.Serialization;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// Every message that crosses nodes is bound to Mesh's serializer, with a manifest from a closed table;
/// bytes marked for Akka's type-naming JSON serializer are refused, and an unknown manifest creates nothing.
/// </summary>
public sealed class SerializationSpec() : Akka.TestKit.Xunit2.TestKit(MeshHocon.For(new NodeOptions("core1") { Listen = [new("127.0.0.1", 17449)], ClusterPort = 0 }, tls: false))
{
    private static readonly FlowSettings Flows = new(4, TimeSpan.FromHours(1), TimeSpan.FromSeconds(5));

    public static readonly IReadOnlyList<object> Samples =
    [
        new GetRouteTable("edge1", 3, TimeSpan.FromSeconds(15)) { Deltas = true },
        new RouteTable(5, "m", "edge1", true, [new ListenEntry("127.0.0.1:1", "s", "o") { Allow = ["10.0.0.0/8"], MaxConnections = 7 }],
            [new OwnedService("s", "127.0.0.1:2", new CheckSpec("tcp", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 2, 3, null)),
             new OwnedService("db", "127.0.0.1:3", new CheckSpec("mysql", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 2, 3, null, User: "meshcheck"))],
            [new GatewayInfo("core1", true, ["127.0.0.1:7443"])], [new ServiceInfo("s", "edge1")], Flows, [new NextHop("core1", "core1")],
            [new DownService("s", "down")]) { Revoked = ["sha256:" + new string('a', 64)], Access = [new ServiceAccess("s", ["core1"])] },
        new RouteTableDelta(5, 6, "edge1", [new NextHop("core1", "core2") { Cost = 3 }], ["core3"], [new DownService("s", "down")]),
        new RouteTableUnchanged(5), new RouteTableUnavailable("why"), new RouteMapChanged(6),
        new LinkReport("edge1", 9, [new LinkStatus("core1", true, 1.5)], "0.8.0"), new LinkReportReceived(9, 5),
        new HealthReport("edge1", 9, [new ServiceHealth("s", HealthState.Down, "refused", DateTimeOffset.UnixEpoch)]), new HealthReportReceived(9),
        GetDirectorStatus.Instance, new DirectorStatus("node", 3, "/etc/mesh.toml", ["e"]) { Source = "push", FileDiffers = true },
        ReloadConfig.Instance, new PushConfig("[mesh]", "api"), GetMeshView.Instance,
        new MeshView(3, [], [], [], [new LinkView("a", "b", 1)], [new MeshEvent(DateTimeOffset.UnixEpoch, "info", "k", "s", "m")]),
        new GetGatewayRoutes("edge1"), new GatewayRoutes(null),
    ];

    [Fact]
    public void Every_cross_node_message_type_has_a_manifest_and_a_sample_here()
    {
        var crossing = typeof(IRoutingMessage).Assembly.GetTypes().Where(t => typeof(IRoutingMessage).IsAssignableFrom(t) && !t.IsInterface).ToHashSet();
        Assert.Equal(crossing.OrderBy(t => t.Name), WireCodec.Types.OrderBy(t => t.Name));
        Assert.Equal(crossing.OrderBy(t => t.Name), Samples.Select(s => s.GetType()).OrderBy(t => t.Name));
    }

    [Fact]
    public void Each_is_bound_to_the_mesh_serializer_and_comes_back_equal()
    {
        foreach (var message in Samples)
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            Assert.IsType<MeshSerializer>(serializer);
            var bytes = serializer.ToBinary(message);
            var back = Sys.Serialization.Deserialize(bytes, MeshSerializer.Id, WireCodec.ManifestOf(message));
            Assert.Equal(WireCodec.Frame(message), WireCodec.Frame(back));   // the same bytes again: nothing lost
        }
    }

    [Fact]
    public void Bytes_marked_for_akkas_type_naming_serializer_are_refused()
    {
        var payload = "{\"$type\":\"System.IO.FileInfo, System.IO.FileSystem\",\"OriginalPath\":\"/etc/passwd\"}"u8.ToArray();
        Assert.ThrowsAny<Exception>(() => Sys.Serialization.Deserialize(payload, 1, typeof(object)));
        Assert.Throws<InvalidOperationException>(() => Sys.Serialization.FindSerializerFor(new FileInfo("/tmp/x")).ToBinary(new FileInfo("/tmp/x")));
    }

    [Fact]
    public void A_gateway_that_predates_deltas_asks_without_the_field_and_is_sent_whole_tables()
    {
        var older = """{"gateway":"edge1","knownVersion":3,"wait":"00:00:15"}"""u8.ToArray();   // GetRouteTable as such a gateway writes it
        var asked = Assert.IsType<GetRouteTable>(WireCodec.FromJson("rt.get", older));
        Assert.False(asked.Deltas);
    }

    /// <summary>CheckSpec as a gateway from before check.user had it (the shape an older node deserializes into).</summary>
    private sealed record CheckSpecWithoutUser(string Kind, TimeSpan Interval, TimeSpan Timeout, int Rise, int Fall, string? Path, string? PasswordEnv = null);

    [Fact]
    public void A_check_user_is_skipped_by_a_node_that_predates_it_and_absent_from_one_reads_as_none()
    {
        var spec = new CheckSpec("mysql", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 2, 3, null, User: "meshcheck");
        var older = System.Text.Json.JsonSerializer.Deserialize<CheckSpecWithoutUser>(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(spec, WireCodec.Json), WireCodec.Json)!;
        Assert.Equal(("mysql", 2, 3), (older.Kind, older.Rise, older.Fall));
        var fromOlder = System.Text.Json.JsonSerializer.Deserialize<CheckSpec>(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(older, WireCodec.Json), WireCodec.Json)!;
        Assert.Equal(spec with { User = null }, fromOlder);
    }

    [Fact]
    public void An_unknown_manifest_or_malformed_json_creates_nothing()
    {
        Assert.Throws<WireException>(() => WireCodec.FromJson("System.IO.FileInfo", "{}"u8));
        Assert.Throws<WireException>(() => WireCodec.FromJson("rt", "{not json"u8));
        Assert.Throws<WireException>(() => WireCodec.Unframe([200, 1, 2]));
    }
}
