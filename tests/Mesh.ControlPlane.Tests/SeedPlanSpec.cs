using Mesh.Config;
using Mesh.Node;

namespace Mesh.ControlPlane.Tests;

/// <summary>Who founds the cluster (ADR 0011), and that a gateway that was a member never founds a second one first.</summary>
public sealed class SeedPlanSpec
{
    private static readonly HostPort Core1 = new("127.0.0.1", 4001), Core2 = new("127.0.0.1", 4002);
    private static readonly NodeOptions First = new("core1") { Join = [Core1, Core2], ClusterPort = 4001, Listen = [new HostPort("127.0.0.1", 7001)] };

    [Fact]
    public void At_a_cold_start_the_first_seed_founds_at_once()
    {
        Assert.Equal([Core1, Core2], SeedPlan.Seeds(First, []));
        Assert.Equal(TimeSpan.Zero, SeedPlan.FoundAfter(First, SeedPlan.Seeds(First, [])));
    }

    [Fact]
    public void The_first_seed_that_was_a_member_rejoins_last_and_founds_only_after_its_turn_when_no_other_seed_answers()
    {
        // core1 left (mesh cluster leave) after it saw core2 up: its next control plane must join core2's cluster, and
        // Akka's first-seed rule (found after 3 s without an answer) once made it found a second one under load
        var seeds = SeedPlan.Seeds(First, [Core1, Core2]);
        Assert.Equal([Core2, Core1], seeds);
        Assert.Equal(SeedPlan.FoundAfterEach, SeedPlan.FoundAfter(First, seeds));
    }
}
