using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Director.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>What each gateway's table holds: everything for those that relay or accept links, what it uses for any other edge.</summary>
public sealed class RouteTablesSpec
{
    internal static readonly RouteMap Map = RouteMapLoader.Load("""
        [mesh]
        name = "m"
        [gateways.core1]
        links = ["10.0.0.1:7443"]
        [gateways.core2]
        links = ["10.0.0.2:7443"]
        [gateways.lan-1]
        role = "edge"
        links = ["192.168.1.5:7443"]
        [gateways.site-a]
        [gateways.site-b]
        [gateways.site-c]
        [services.db]
        gateway = "site-b"
        target = "127.0.0.1:3306"
        [services.cache]
        gateway = "site-c"
        target = "127.0.0.1:6379"
        [services.web]
        gateway = "site-a"
        target = "127.0.0.1:80"
        [[entries]]
        gateway = "site-a"
        listen = "127.0.0.1:3306"
        service = "db"
        [[entries]]
        gateway = "core1"
        listen = "127.0.0.1:6379"
        service = "cache"
        """, "mesh.toml").Map!;

    [Fact]
    public void A_plain_edge_gets_its_services_their_owners_the_gateways_it_dials_and_next_hops_to_its_owners_only()
    {
        var table = RouteTables.For(Map, 1, "site-a");
        Assert.Equal(["core1", "core2", "lan-1", "site-a", "site-b"], table.Gateways.Select(g => g.Name));   // not site-c
        Assert.Equal(["db", "web"], table.Services.Select(s => s.Name));   // its entry's service and the one it owns
        var hop = Assert.Single(table.NextHops);
        Assert.Equal(("site-b", "core1", 2.0), (hop.Destination, hop.Via, hop.Cost));   // through a core: equal costs, the first by name
        Assert.True(table.Dials(table.Gateways.Single(g => g.Name == "lan-1")));   // it dials the edge that accepts links
    }

    [Fact]
    public void Core_gateways_and_edges_that_accept_links_get_every_gateway_service_and_next_hop()
    {
        foreach (var gateway in new[] { "core1", "lan-1" })
        {
            var table = RouteTables.For(Map, 1, gateway);
            Assert.Equal(Map.Gateways.Count, table.Gateways.Count);
            Assert.Equal(Map.Services.Count, table.Services.Count);
            Assert.Equal(Map.Gateways.Count - 1, table.NextHops.Count);
        }
    }

    [Fact]
    public void A_plain_edges_table_does_not_grow_with_the_mesh()
    {
        var text = "[mesh]\nname = \"m\"\n[gateways.core1]\nlinks = [\"10.0.0.1:7443\"]\n" + string.Concat(Enumerable.Range(0, 500).Select(i =>
            $"[gateways.site-{i}]\n[services.s{i}]\ngateway = \"site-{i}\"\ntarget = \"127.0.0.1:{1000 + i}\"\n"))
            + "[[entries]]\ngateway = \"site-0\"\nlisten = \"127.0.0.1:9000\"\nservice = \"s1\"\n";
        var big = RouteMapLoader.Load(text, "mesh.toml").Map!;
        var table = RouteTables.For(big, 1, "site-0");
        Assert.Equal(["core1", "site-0", "site-1"], table.Gateways.Select(g => g.Name));
        Assert.Equal(["s0", "s1"], table.Services.Select(s => s.Name));
        Assert.True(Mesh.Contracts.Wire.WireCodec.ToJson(table).Length < 2_000);
    }

    [Fact]
    public void A_routine_report_with_the_same_links_up_and_at_the_same_costs_changes_nothing_paths_use()
    {
        var report = new LinkReport("site-a", 1, [new LinkStatus("core1", true, 3.2), new LinkStatus("core2", true, null)]);
        Assert.True(report.SameLinksAs(report with { Sequence = 2, Links = [new LinkStatus("core2", true, null), new LinkStatus("core1", true, 4.9)] }));   // same 5 ms step
        Assert.False(report.SameLinksAs(report with { Links = [new LinkStatus("core1", true, 5.1), new LinkStatus("core2", true, null)] }));   // next step
        Assert.False(report.SameLinksAs(report with { Links = [new LinkStatus("core1", false, null), new LinkStatus("core2", true, null)] }));
        Assert.False(report.SameLinksAs(report with { Links = [new LinkStatus("core1", true, 3.2)] }));
        Assert.False(report.SameLinksAs(report with { Links = [new LinkStatus("core1", true, 3.2), new LinkStatus("core2", true, 1.0)] }));   // now timed
    }

    [Fact]
    public void A_tables_lookups_by_name_find_what_its_lists_hold()
    {
        var table = RouteTables.For(Map, 1, "core1");
        foreach (var hop in table.NextHops) Assert.Equal(hop.Via, table.Via(hop.Destination));
        foreach (var g in table.Gateways) Assert.Same(g, table.GatewayNamed(g.Name));
        foreach (var sv in table.Services) Assert.Same(sv, table.ServiceNamed(sv.Name));
        Assert.Null(table.Via("nowhere"));
        Assert.Null(table.ServiceNamed("nothing"));
        var owner = RouteTables.For(Map, 1, "site-b");
        Assert.Equal("127.0.0.1:3306", owner.OwnedNamed("db")!.Target);
        Assert.Equal(["site-a"], owner.AllowedOrigins("db"));
        Assert.Null(owner.AllowedOrigins("cache"));
    }
}
