using Mesh.Contracts.Health;
using Mesh.Gateway.Health;

namespace Mesh.Gateway.Tests;

/// <summary>Rise and fall: what a service's state is after a run of probe results.</summary>
public sealed class HealthTrackerSpec
{
    /// <summary>A probe that found nothing wrong.</summary>
    private const string? Ok = null;

    private static HealthTracker After(params string?[] results)
    {
        var t = new HealthTracker(rise: 2, fall: 3);
        foreach (var r in results) t.Observe(r);
        return t;
    }

    [Fact]
    public void The_first_probe_decides_a_service_not_known_yet()
    {
        Assert.Equal(HealthState.Up, After(Ok).State);
        Assert.Equal(HealthState.Down, After("refused").State);
        Assert.Equal("refused", After("refused").Reason);
    }

    [Fact]
    public void An_up_service_is_down_only_after_fall_failures_in_a_row()
    {
        Assert.Equal(HealthState.Up, After(Ok, "x", "x").State);
        Assert.Equal(HealthState.Up, After(Ok, "x", "x", Ok, "x", "x").State);
        var down = After(Ok, "a", "b", "c");
        Assert.Equal(HealthState.Down, down.State);
        Assert.Equal("c", down.Reason);
    }

    [Fact]
    public void A_down_service_is_up_only_after_rise_successes_in_a_row()
    {
        Assert.Equal(HealthState.Down, After("x", Ok).State);
        Assert.Equal(HealthState.Down, After("x", Ok, "y", Ok).State);
        var up = After("x", Ok, Ok);
        Assert.Equal(HealthState.Up, up.State);
        Assert.Null(up.Reason);
    }

    [Fact]
    public void Observe_says_when_the_state_changed_and_only_then()
    {
        var t = new HealthTracker(rise: 1, fall: 2);
        Assert.Equal([true, false, false, true, true], new[] { Ok, Ok, "x", "x", Ok }.Select(t.Observe).ToArray());
    }
}
