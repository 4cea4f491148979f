using Mesh.Transport.Links;

namespace Mesh.Transport.Tests;

/// <summary>The round trip paths see: what the network does, not what a busy gateway's late answers say.</summary>
public sealed class RoundTripWindowSpec
{
    private static readonly long Window = (long)RoundTripWindow.DefaultWindow.TotalMilliseconds, Known = (long)RoundTripWindow.KnownAfter.TotalMilliseconds;
    private readonly RoundTripWindow _rtt = new(RoundTripWindow.DefaultWindow);

    /// <summary>One ping a second from <paramref name="fromMs"/>, each answered in <paramref name="ms"/>.</summary>
    private long Pings(long fromMs, long untilMs, double ms)
    {
        for (var t = fromMs; t < untilMs; t += 1000) _rtt.Add(ms, t);
        return untilMs;
    }

    [Fact]
    public void Is_unknown_until_pings_were_answered_for_a_while()
    {
        Pings(0, 5000, 0.2);
        Assert.Null(_rtt.Min(5000));
        Pings(5000, Known + 1000, 0.2);
        Assert.Equal(0.2, _rtt.Min(Known + 1000));
    }

    [Fact]
    public void Slow_start_up_pings_are_forgotten_once_fast_ones_come()
    {
        _rtt.Add(80, 0);   // the first pings of a starting gateway: JIT
        _rtt.Add(40, 500);
        var now = Pings(1000, Known + 1000, 0.3);
        Assert.Equal(0.3, _rtt.Min(now));
    }

    [Fact]
    public void A_loaded_spell_shorter_than_the_window_does_not_move_it()
    {
        var now = Pings(0, 60_000, 0.2);
        now = Pings(now, now + Window - 5000, 140);   // every ping late for 25 s: a saturated CPU
        Assert.Equal(0.2, _rtt.Min(now));
    }

    [Fact]
    public void A_link_that_really_got_slower_shows_it_once_no_ping_of_a_window_was_faster()
    {
        var now = Pings(0, 60_000, 0.2);
        now = Pings(now, now + Window - 1000, 20);   // a new route: 20 ms
        Assert.Equal(0.2, _rtt.Min(now));
        now = Pings(now, now + 2000, 20);
        Assert.Equal(20, _rtt.Min(now));
    }

    [Fact]
    public void A_link_that_got_faster_shows_it_at_once()
    {
        var now = Pings(0, 60_000, 20);
        _rtt.Add(0.5, now);
        Assert.Equal(0.5, _rtt.Min(now));
    }

    [Fact]
    public void A_link_whose_pings_stopped_keeps_its_last_round_trip()
    {
        var now = Pings(0, 60_000, 3);
        Assert.Equal(3, _rtt.Min(now + 10 * Window));
    }
}
