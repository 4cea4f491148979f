using Mesh.Config;
using Mesh.Contracts.Health;
using Mesh.Director.Observed;

namespace Mesh.ControlPlane.Tests;

/// <summary>The director's book of what it observes, without an actor: presence, health, events.</summary>
public sealed class ObservedSpec
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_gateway_silent_past_the_limit_is_lost_once_and_back_when_heard_from()
    {
        var presence = new GatewayPresence();
        Assert.False(presence.Heard("edge1", T0));
        Assert.Equal(T0, presence.ConnectedSince("edge1"));
        Assert.Empty(presence.FindLost(T0.AddSeconds(45), TimeSpan.FromSeconds(45)));   // not past it yet
        Assert.Equal([("edge1", T0)], presence.FindLost(T0.AddSeconds(46), TimeSpan.FromSeconds(45)));
        Assert.Empty(presence.FindLost(T0.AddSeconds(60), TimeSpan.FromSeconds(45)));   // said once
        Assert.True(presence.IsLost("edge1"));
        Assert.Null(presence.ConnectedSince("edge1"));
        Assert.True(presence.Heard("edge1", T0.AddSeconds(70)));   // back
        Assert.Equal(T0.AddSeconds(70), presence.ConnectedSince("edge1"));

        presence.ForgetAllBut(g => g != "edge1");
        Assert.Null(presence.LastSeen("edge1"));
        Assert.Empty(presence.ToStored());
    }

    [Fact]
    public void Health_reports_apply_in_sequence_say_what_changed_and_a_lost_owners_services_are_not_down()
    {
        var map = RouteMapLoader.Load("""
            [mesh]
            name = "m"
            [gateways.core1]
            links = ["127.0.0.1:7443"]
            [gateways.edge1]
            [services.db]
            gateway = "edge1"
            target = "127.0.0.1:3306"
            """, "mesh.toml").Map!;
        var book = new HealthBook();
        var down = new HealthReport("edge1", 2, [new ServiceHealth("db", HealthState.Down, "refused", T0)]);
        var change = Assert.Single(book.Apply(down)!);
        Assert.Null(change.Before);
        Assert.Null(book.Apply(down with { Sequence = 1 }));   // older: ignored
        Assert.Empty(book.Apply(down with { Sequence = 3 })!);   // same state: no change
        Assert.Equal("db", Assert.Single(book.Down(map, _ => false)).Name);
        Assert.Empty(book.Down(map, owner => owner == "edge1"));   // unknown, not down
        var up = Assert.Single(book.Apply(new HealthReport("edge1", 4, [new ServiceHealth("db", HealthState.Up, null, T0)]))!);
        Assert.Equal((HealthState.Down, HealthState.Up), (up.Before!.State, up.Now.State));
    }

    [Fact]
    public void The_event_log_keeps_the_newest_500_with_their_wire_names()
    {
        var log = new EventLog();
        for (var i = 0; i < 510; i++) log.Add(T0.AddSeconds(i), EventLevel.Warning, EventKind.ServiceDown, "db", $"event {i}");
        var events = log.ToArray();
        Assert.Equal(EventLog.Kept, events.Length);
        Assert.Equal(("warning", "service-down", "event 10"), (events[0].Level, events[0].Kind, events[0].Message));
        Assert.Equal(["reload-applied", "reload-failed", "gateway-lost", "gateway-back", "service-down", "service-up"],
            Enum.GetValues<EventKind>().Select(k => k.Wire()));
    }
}
