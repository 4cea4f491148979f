using Mesh.Gateway.Link;

namespace Mesh.Gateway.Tests;

/// <summary>How many connections a gateway keeps dialed towards a peer that claims them (a burst towards a site behind NAT).</summary>
public sealed class PoolDemandSpec
{
    [Fact]
    public void At_rest_the_pool_is_pool_size()
    {
        var demand = new PoolDemand(4);
        Assert.Equal(4, demand.Target(0));
        Assert.Equal(4, demand.DialsToStart(0, idle: 0, inFlight: 0));
        Assert.Equal(0, demand.DialsToStart(0, idle: 4, inFlight: 0));
    }

    [Fact]
    public void A_burst_of_claims_grows_the_pool_to_what_the_last_second_claimed_dialing_at_most_32_at_once()
    {
        var demand = new PoolDemand(4);
        for (var i = 0; i < 300; i++) demand.Claimed(i);
        Assert.Equal(300, demand.Target(300));
        Assert.Equal(PoolDemand.MaxDialsAtOnce, demand.DialsToStart(300, idle: 0, inFlight: 0));
        Assert.Equal(2, demand.DialsToStart(300, idle: 0, inFlight: 30));
        Assert.Equal(4, demand.Target(2000));   // a second later the burst is over
    }

    [Fact]
    public void Flows_that_give_their_connections_back_grow_nothing()
    {
        var demand = new PoolDemand(4);
        for (var i = 0; i < 300; i++)
        {
            demand.Claimed(i * 3);       // one client, one connection after another: 300 a second
            demand.Returned(i * 3 + 2);
        }
        Assert.Equal(4, demand.Target(900));
        Assert.Equal(0, demand.DialsToStart(900, idle: 4, inFlight: 0));
    }

    [Fact]
    public void A_burst_grows_the_pool_by_what_it_took_and_did_not_bring_back()
    {
        var demand = new PoolDemand(4);
        for (var i = 0; i < 300; i++) demand.Claimed(i);
        for (var i = 0; i < 100; i++) demand.Returned(300 + i);
        Assert.Equal(200, demand.Target(400));
    }

    [Fact]
    public void The_pool_never_grows_past_its_bound()
    {
        var demand = new PoolDemand(4);
        for (var i = 0; i < 5000; i++) demand.Claimed(i / 10);
        Assert.Equal(PoolDemand.MaxIdle, demand.Target(500));
    }

    [Fact]
    public void The_surplus_is_closed_only_after_a_quiet_spell()
    {
        var demand = new PoolDemand(4);
        demand.Claimed(1000);
        Assert.Equal(0, demand.Surplus(5000, idle: 100));
        Assert.Equal(96, demand.Surplus(1000 + (long)PoolDemand.QuietBeforeTrim.TotalMilliseconds, idle: 100));
        Assert.Equal(0, demand.Surplus(60_000, idle: 3));
    }

    [Fact]
    public void Concurrent_short_flows_bring_back_what_the_last_second_claimed()
    {
        var demand = new PoolDemand(poolSize: 4);
        for (var i = 0; i < 100; i++)
        {
            demand.Claimed(i * 5);   // 50 clients, a connection each per request: claims and returns interleave
            demand.Returned(i * 5 + 3);
        }
        Assert.Equal(4, demand.Target(500));               // nothing to dial ahead
        Assert.Equal(100, demand.ReturnCap(500));          // but nothing brought back is closed
        Assert.Equal(8, demand.ReturnCap(500 + (long)PoolDemand.Window.TotalMilliseconds + 1));
        for (var i = 0; i < 5000; i++) demand.Claimed(2000 + i / 10);
        Assert.Equal(PoolDemand.MaxIdle, demand.ReturnCap(2500));
    }

    [Fact]
    public void Flows_may_bring_back_twice_pool_size_at_rest_and_what_a_burst_took()
    {
        var demand = new PoolDemand(poolSize: 4);
        Assert.Equal(8, demand.ReturnCap(0));
        for (var i = 0; i < 20; i++) demand.Claimed(100);
        Assert.Equal(20, demand.ReturnCap(200));   // the burst's target
        Assert.Equal(8, demand.ReturnCap(100 + (long)PoolDemand.Window.TotalMilliseconds + 1));
    }
}
