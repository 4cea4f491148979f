using Mesh.Contracts.Routing;
using Mesh.Director.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>Which links the director lets paths use, from what the gateways found when they tested them.</summary>
public sealed class WorkingLinksSpec
{
    private static readonly Member[] Mesh = [new("core1", true, true), new("core2", true, true), new("site-a", false, false), new("site-b", false, false)];

    private static Dictionary<string, LinkReport> Reports(params LinkReport[] reports) => reports.ToDictionary(r => r.Gateway);

    private static LinkReport Report(string gateway, params LinkStatus[] links) => new(gateway, 1, links);

    private static string Names(IEnumerable<LinkEdge> links) => string.Join(" ", links.Select(l => $"{l.A}-{l.B}:{l.Cost}"));

    [Fact]
    public void Before_any_report_every_declared_link_is_used()
    {
        Assert.Equal("core1-core2:1 core1-site-a:1 core1-site-b:1 core2-site-a:1 core2-site-b:1", Names(WorkingLinks.From(Mesh, Reports())));
    }

    [Fact]
    public void A_link_its_only_witness_reports_down_is_not_used_and_the_path_goes_through_the_other_core()
    {
        var links = WorkingLinks.From(Mesh, Reports(Report("site-a", new LinkStatus("core1", false, null), new LinkStatus("core2", true, 0.3))));
        Assert.DoesNotContain("core1-site-a", Names(links));
        Assert.Equal("core2", Paths.NextHops("core1", links)["site-a"]);
        Assert.Equal("core2", Paths.NextHops("site-a", links)["core1"]);
    }

    [Fact]
    public void A_link_is_used_when_either_end_reports_it_up_at_the_best_cost_reported()
    {
        var oneWay = Reports(Report("core1", new LinkStatus("core2", false, null)), Report("core2", new LinkStatus("core1", true, 23)));
        Assert.Contains("core1-core2:5", Names(WorkingLinks.From(Mesh, oneWay)));   // 23 ms: 5 steps of 5 ms
        var bothDown = Reports(Report("core1", new LinkStatus("core2", false, null)), Report("core2", new LinkStatus("core1", false, null)));
        Assert.DoesNotContain("core1-core2", Names(WorkingLinks.From(Mesh, bothDown)));
    }

    [Fact]
    public void A_core_that_sees_an_edges_connections_alive_keeps_the_link_despite_the_edges_stale_down_report_at_the_edges_measured_cost()
    {
        var stale = Reports(Report("site-a", new LinkStatus("core1", false, null)), Report("core1", new LinkStatus("site-a", true, null)));
        Assert.Contains("core1-site-a:1", Names(WorkingLinks.From(Mesh, stale)));
        var measured = Reports(Report("site-a", new LinkStatus("core1", true, 42)), Report("core1", new LinkStatus("site-a", true, null)));
        Assert.Contains("core1-site-a:9", Names(WorkingLinks.From(Mesh, measured)));   // the accepting side does not time the link
    }

    [Fact]
    public void A_slow_direct_link_loses_to_a_faster_path_through_a_relay()
    {
        var links = WorkingLinks.From(Mesh, Reports(
            Report("site-a", new LinkStatus("core1", true, 180), new LinkStatus("core2", true, 4)),
            Report("core2", new LinkStatus("core1", true, 9))));
        Assert.Equal("core2", Paths.NextHops("site-a", links)["core1"]);   // 1 + 2 beats 36
    }

    [Fact]
    public void Round_trips_on_one_LAN_all_cost_the_same_so_jitter_never_moves_a_path()
    {
        Assert.All(new[] { 0.05, 0.4, 1.9, 4.99 }, rtt => Assert.Equal(1, new LinkStatus("p", true, rtt).Cost));
        Assert.Equal(1, new LinkStatus("p", true, null).Cost);
    }

    [Fact]
    public void The_change_is_described_for_the_log()
    {
        var before = WorkingLinks.From(Mesh, Reports());
        var after = WorkingLinks.From(Mesh, Reports(Report("site-a", new LinkStatus("core1", false, null), new LinkStatus("core2", true, 12))));
        Assert.Equal("core1-site-a down, core2-site-a cost 3", WorkingLinks.Describe(before, after));
        Assert.Equal("core1-site-a up, core2-site-a cost 1", WorkingLinks.Describe(after, before));
    }

    [Fact]
    public void Table_versions_read_as_revision_and_counter_and_order_as_numbers_not_as_text()
    {
        Assert.True(TableVersion.Of(1, 10) > TableVersion.Of(1, 9));
        Assert.Equal(("v1.10", "v1.9", "v1"), (TableVersion.Text(TableVersion.Of(1, 10)), TableVersion.Text(TableVersion.Of(1, 9)), TableVersion.Text(TableVersion.Of(1, 0))));
        Assert.True(TableVersion.Of(2, 0) > TableVersion.Of(1, 1_000_000));
        Assert.Equal((3, 17), (TableVersion.Revision(TableVersion.Of(3, 17)), TableVersion.Counter(TableVersion.Of(3, 17))));
        Assert.Equal((1L << 40) + 3, TableVersion.Of(1, 3));   // the API's number: revision * 2^40 + counter
    }

    [Fact]
    public void A_shortcut_between_two_edges_is_used_only_while_a_witness_reports_it_up()
    {
        Member[] lan = [new("core1", true, true), new("lan-1", false, true), new("lan-2", false, true)];
        Assert.Equal("core1-lan-1:1 core1-lan-2:1", Names(WorkingLinks.From(lan, Reports())));   // not assumed: it may never work
        var up = Reports(Report("lan-1", new LinkStatus("core1", true, 0.4), new LinkStatus("lan-2", true, 0.2)));
        Assert.Contains("lan-1-lan-2:1", Names(WorkingLinks.From(lan, up)));
        var blocked = Reports(Report("lan-1", new LinkStatus("core1", true, 0.4), new LinkStatus("lan-2", false, null)),
            Report("lan-2", new LinkStatus("core1", true, 0.4), new LinkStatus("lan-1", false, null)));
        Assert.DoesNotContain("lan-1-lan-2", Names(WorkingLinks.From(lan, blocked)));
    }
}
