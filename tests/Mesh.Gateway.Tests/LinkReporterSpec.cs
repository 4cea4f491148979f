using Mesh.Contracts.Routing;
using Mesh.Gateway.Link;

namespace Mesh.Gateway.Tests;

/// <summary>When a gateway tells the director about its links: on a change, and now and then in any case.</summary>
public sealed class LinkReporterSpec
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static double? Rtt(string _) => 0.4;

    [Fact]
    public void A_change_is_reported_once_then_nothing_until_the_refresh_is_due()
    {
        var reporter = new LinkReporter("site-a");
        reporter.Changed("core1", true);
        var first = reporter.Due(Rtt, T0);
        Assert.NotNull(first);
        Assert.Equal("core1", Assert.Single(first.Links).Peer);
        reporter.Acknowledged(first.Sequence);
        Assert.Null(reporter.Due(Rtt, T0 + LinkReporter.CheckEvery));
        Assert.NotNull(reporter.Due(Rtt, T0 + LinkReporter.RefreshEvery));
    }

    [Fact]
    public void A_link_going_down_is_reported_at_the_next_check_and_one_that_came_back_in_between_is_not()
    {
        var reporter = new LinkReporter("site-a");
        reporter.Changed("core1", true);
        reporter.Acknowledged(reporter.Due(Rtt, T0)!.Sequence);
        reporter.Changed("core1", false);
        reporter.Changed("core1", true);
        Assert.Null(reporter.Due(Rtt, T0 + LinkReporter.CheckEvery));
        reporter.Changed("core1", false);
        var report = reporter.Due(Rtt, T0 + 2 * LinkReporter.CheckEvery);
        Assert.False(Assert.Single(report!.Links).Up);
    }

    [Fact]
    public void A_report_the_director_did_not_acknowledge_is_sent_again_at_the_next_check()
    {
        var reporter = new LinkReporter("site-a");
        reporter.Changed("core1", false);
        var lost = reporter.Due(Rtt, T0)!;
        var again = reporter.Due(Rtt, T0 + LinkReporter.CheckEvery);
        Assert.NotNull(again);
        reporter.Acknowledged(lost.Sequence);   // a late answer to the first does not count for the second
        Assert.NotNull(reporter.Due(Rtt, T0 + 2 * LinkReporter.CheckEvery));
        reporter.Acknowledged(reporter.Due(Rtt, T0 + 3 * LinkReporter.CheckEvery)!.Sequence);
        Assert.Null(reporter.Due(Rtt, T0 + 4 * LinkReporter.CheckEvery));
    }

    [Fact]
    public void A_new_control_plane_gets_the_report_at_once()
    {
        var reporter = new LinkReporter("site-a");
        reporter.Changed("core1", true);
        reporter.Due(Rtt, T0);
        Assert.NotNull(reporter.Due(Rtt, T0, force: true));
    }

    [Fact]
    public void A_round_trip_wandering_across_one_cost_step_is_not_reported_again_but_a_real_change_is()
    {
        var reporter = new LinkReporter("site-a");
        reporter.Changed("core1", true);
        var rtt = 4.8;
        var first = reporter.Due(_ => rtt, T0)!;
        reporter.Acknowledged(first.Sequence);
        rtt = 5.3;   // cost 1 -> 2: jitter
        Assert.Null(reporter.Due(_ => rtt, T0 + LinkReporter.CheckEvery));
        rtt = 40;    // cost 8: the path really got slower
        var slower = reporter.Due(_ => rtt, T0 + 2 * LinkReporter.CheckEvery);
        Assert.Equal(8, Assert.Single(slower!.Links).Cost);
    }

    [Fact]
    public void A_peer_that_dials_us_is_reported_up_while_its_connections_live_and_down_once_they_are_gone()
    {
        var reporter = new LinkReporter("core1");
        reporter.PeerDialed("site-b", alive: false);   // never dialed us: nothing to say about it
        var first = reporter.Due(Rtt, T0)!;
        Assert.Empty(first.Links);
        reporter.Acknowledged(first.Sequence);
        reporter.PeerDialed("site-a", alive: true);
        var up = reporter.Due(_ => null, T0 + LinkReporter.CheckEvery)!;
        Assert.Equal(new LinkStatus("site-a", true, null), Assert.Single(up.Links));
        reporter.Acknowledged(up.Sequence);
        reporter.PeerDialed("site-a", alive: false);
        Assert.False(Assert.Single(reporter.Due(_ => null, T0 + 2 * LinkReporter.CheckEvery)!.Links).Up);
    }

    [Fact]
    public void A_core_link_is_up_when_our_dialed_connections_or_the_peers_work()
    {
        var reporter = new LinkReporter("core1");
        reporter.Changed("core2", false);
        reporter.PeerDialed("core2", alive: true);
        Assert.True(Assert.Single(reporter.Due(Rtt, T0)!.Links).Up);
    }
}
