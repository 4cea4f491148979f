using Mesh.Contracts.Routing;
using Mesh.Gateway.Flows;

namespace Mesh.Gateway.Tests;

/// <summary>Which gateway a flow is opened on when the table's next hop has a link known to be down.</summary>
public sealed class DetourSpec
{
    private static readonly RouteTable Table = new(1, "m", "site-a", true, [], [],
        [new GatewayInfo("core1", true, ["10.0.0.1:7443"]), new GatewayInfo("core2", true, ["10.0.0.2:7443"]),
         new GatewayInfo("core3", true, ["10.0.0.3:7443"]), new GatewayInfo("site-a", false, []), new GatewayInfo("site-b", false, [])],
        [], new FlowSettings(4, TimeSpan.FromHours(1), TimeSpan.FromSeconds(5)), [new NextHop("site-b", "core1")]);

    private static GatewayInfo G(string name) => Table.Gateways.Single(g => g.Name == name);

    private static string Pick(string via, string[] down, string[] up, string self = "site-a", string? cameFrom = null) =>
        Detour.Pick(Table, self, G(via), down.Contains, up.Contains, cameFrom).Name;

    [Fact]
    public void The_planned_hop_is_kept_while_its_link_is_not_known_down() =>
        Assert.Equal("core1", Pick("core1", down: [], up: ["core2"]));

    [Fact]
    public void A_hop_whose_link_is_down_is_replaced_by_a_core_gateway_whose_link_works() =>
        Assert.Equal("core3", Pick("core1", down: ["core1", "core2"], up: ["core3"]));

    [Fact]
    public void With_no_working_alternative_the_planned_hop_stays_and_the_flow_says_why_it_fails() =>
        Assert.Equal("core1", Pick("core1", down: ["core1", "core2", "core3"], up: []));

    [Fact]
    public void A_relay_never_detours_to_itself_nor_back_to_where_the_flow_came_from()
    {
        Assert.Equal("core3", Pick("core1", down: ["core1"], up: ["core2", "core3"], self: "core2"));
        Assert.Equal("core1", Pick("core1", down: ["core1"], up: ["core2"], self: "core3", cameFrom: "core2"));   // nowhere else to go
    }
}
