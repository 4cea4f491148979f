using Akka.Actor;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;

namespace Mesh.ControlPlane.Tests;

/// <summary>
/// Table versions only grow (ADR 0013): a director that takes over after a crash, or a mesh that restarts
/// whole from its store, numbers its tables after every one the previous director published, though that
/// one died before the store heard of its last tables. Seen as a user sees it ("v1.3" then "v1.12", never
/// "v1"), and as a number (the API's `version`).
/// </summary>
public sealed class TableVersionSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO")
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-versions-").FullName;
    private long _sequence = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

    /// <summary>A director on the store the previous one left (the embedded store of a core gateway, a Redis: any store that outlives it).</summary>
    private Task<IActorRef> Director() => TestMesh.DirectorIn(Sys, _dir);

    /// <summary>Killed: it writes nothing more (its periodic save of what it observed, every 5 s, has not come).</summary>
    private async Task Crash(IActorRef director)
    {
        Watch(director);
        Sys.Stop(director);
        await ExpectTerminatedAsync(director);
    }

    /// <summary>db's owner reports it down or up: every table says so, as a new version.</summary>
    private Task Flip(IActorRef director, int i) => director.Ask<HealthReportReceived>(new HealthReport("core2", ++_sequence,
        [new ServiceHealth("db", i % 2 == 0 ? HealthState.Down : HealthState.Up, i % 2 == 0 ? "refused" : null, DateTimeOffset.UtcNow)]), Ask);

    private static Task<RouteTable> TableOf(IActorRef director, long known = 0) =>
        director.Ask<RouteTable>(new GetRouteTable("core1", known, TimeSpan.Zero), Ask);

    /// <summary>"v1.3" as (1, 3): the order a user reads.</summary>
    private static (long Revision, long Counter) Read(long version)
    {
        var parts = TableVersion.Text(version).TrimStart('v').Split('.');
        return (long.Parse(parts[0]), parts.Length > 1 ? long.Parse(parts[1]) : 0);
    }

    private static void AssertAfter(RouteTable before, RouteTable after)
    {
        Assert.True(Read(after.Version).CompareTo(Read(before.Version)) > 0,
            $"{TableVersion.Text(after.Version)} reads as older than or equal to {TableVersion.Text(before.Version)}");
        Assert.True(after.Version > before.Version, $"version {after.Version} is not above {before.Version}");   // the API's number orders too
    }

    [Fact]
    public async Task After_a_crash_the_next_director_numbers_its_tables_after_the_last_one_published()
    {
        var first = await Director();
        Assert.Equal("v1", TableVersion.Text((await TableOf(first)).Version));
        for (var i = 0; i < 3; i++) await Flip(first, i);
        RouteTable? held = null;
        await AwaitAssertAsync(async () => Assert.Equal("v1.3", TableVersion.Text((held = await TableOf(first)).Version)), Ask);   // what every gateway holds
        await Crash(first);

        var next = await TableOf(await Director(), known: held!.Version);   // a gateway asks with the version it holds: it gets the new table
        AssertAfter(held, next);
        Assert.Equal(1, TableVersion.Revision(next.Version));   // the same config: the stored revision
    }

    [Fact]
    public async Task A_burst_of_changes_and_two_takeovers_in_a_row_still_only_grow()
    {
        var first = await Director();
        var seen = new List<RouteTable> { await TableOf(first) };
        const int burst = 24;   // three times what one reservation holds (DirectorActor.ReserveAhead)
        for (var i = 0; i < burst; i++) await Flip(first, i);
        await AwaitAssertAsync(async () => Assert.Equal($"v1.{burst}", TableVersion.Text((await TableOf(first)).Version)), Ask);
        seen.Add(await TableOf(first));
        await Crash(first);

        var second = await Director();
        seen.Add(await TableOf(second, known: seen[^1].Version));
        await Crash(second);   // right after its first table: it must have reserved before publishing it

        var third = await Director();
        seen.Add(await TableOf(third, known: seen[^1].Version));
        await Flip(third, 0);
        await Flip(third, 1);   // one of the two changes what it restored
        seen.Add(await TableOf(third, known: seen[^1].Version));
        for (var i = 1; i < seen.Count; i++) AssertAfter(seen[i - 1], seen[i]);
    }
}
