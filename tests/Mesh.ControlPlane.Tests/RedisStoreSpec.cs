using Akka.Actor;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;
using Mesh.Director;
using Mesh.Director.Store;
using Mesh.Tests.Shared;

namespace Mesh.ControlPlane.Tests;

/// <summary>The director's state in a real redis-server: kept across restarts, fenced by revision, written back after an outage.</summary>
public sealed class RedisStoreSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO"), IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly string _config = Path.Combine(Directory.CreateTempSubdirectory("mesh-redis-").FullName, "mesh.toml");

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_config, TestMesh.Config);
        if (RedisServer.WhyUnavailable is null) await _redis.StartAsync();
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private static DirectorState State(long revision, string text = "[mesh]") => new(revision, $"hash{revision}", text, DateTimeOffset.UtcNow);

    [RedisFact]
    public async Task The_state_outlives_the_store_that_wrote_it()
    {
        await using (var first = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test"))
            Assert.True(await first.SaveAsync(State(3, "[mesh]\nname = \"test\""), default));
        await using var second = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
        var loaded = await second.LoadAsync(default);
        Assert.Equal(3, loaded!.Revision);
        Assert.Equal("[mesh]\nname = \"test\"", loaded.ConfigText);
        await using var otherMesh = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "other");
        Assert.Null(await otherMesh.LoadAsync(default));   // one key prefix per mesh
    }

    [RedisFact]
    public async Task A_director_with_an_older_revision_cannot_overwrite_a_newer_one()
    {
        await using var store = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
        Assert.True(await store.SaveAsync(State(5), default));
        Assert.False(await store.SaveAsync(State(4), default));
        Assert.Equal(5, (await store.LoadAsync(default))!.Revision);
        Assert.True(await store.SaveAsync(State(5), default));   // the same revision again is fine (a restart)
    }

    [RedisFact]
    public async Task A_director_serves_while_Redis_is_down_and_writes_its_state_when_Redis_is_back()
    {
        await _redis.StopAsync();
        await using var store = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
        var director = Sys.ActorOf(DirectorActor.Props(DirectorSettings.For(_config), store, mediator: null));

        var table = await director.Ask<RouteTable>(new GetRouteTable("core1", 0, TimeSpan.Zero), TimeSpan.FromSeconds(15));
        Assert.NotEmpty(table.Entries);   // served from the config file, from memory

        await _redis.StartAsync();
        await AwaitAssertAsync(async () =>
        {
            await using var reader = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
            Assert.Equal(1, (await reader.LoadAsync(default))?.Revision);
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
    }

    [RedisFact]
    public async Task A_director_that_starts_takes_the_revision_in_Redis()
    {
        await using (var seed = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test"))
        {
            var map = Mesh.Config.RouteMapLoader.LoadFile(_config).Map!;
            Assert.True(await seed.SaveAsync(new DirectorState(7, map.ContentHash, map.SourceText, DateTimeOffset.UtcNow), default));
        }
        await using var store = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
        var director = Sys.ActorOf(DirectorActor.Props(DirectorSettings.For(_config), store, mediator: null));
        var status = await director.Ask<DirectorStatus>(GetDirectorStatus.Instance, TimeSpan.FromSeconds(15));
        Assert.Equal(7, status.Version);
    }

    [RedisFact]
    public async Task What_a_director_observed_is_in_Redis_and_a_director_that_takes_over_starts_from_it()
    {
        await using var store = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
        var first = Sys.ActorOf(DirectorActor.Props(DirectorSettings.For(_config), store, mediator: null));
        await first.Ask<HealthReportReceived>(new HealthReport("core2", 5, [new ServiceHealth("db", HealthState.Down, "no redis answer within 1s", DateTimeOffset.UtcNow)]),
            TimeSpan.FromSeconds(15));
        await first.Ask<LinkReportReceived>(new LinkReport("edge1", 9, [new LinkStatus("core1", false, null)]), TimeSpan.FromSeconds(15));

        ObservedState? observed = null;
        await AwaitAssertAsync(async () =>
        {
            observed = await store.LoadObservedAsync(default);
            Assert.Contains(observed!.Events, e => e.Kind == "service-down" && e.Subject == "db");
            Assert.Contains(observed.Links, r => r.Gateway == "edge1");
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(250));
        Assert.Contains(observed!.Gateways, g => g.Name == "core2" && !g.Lost);
        await first.GracefulStop(TimeSpan.FromSeconds(10));

        await using var next = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
        var second = Sys.ActorOf(DirectorActor.Props(DirectorSettings.For(_config), next, mediator: null));
        var view = await second.Ask<MeshView>(GetMeshView.Instance, TimeSpan.FromSeconds(15));
        Assert.Equal("down", view.Services.Single(sv => sv.Name == "db").Health);
        Assert.Contains(view.Events, e => e.Kind == "service-down" && e.Subject == "db");
        Assert.NotNull(view.Gateways.Single(g => g.Name == "core2").LastSeen);
        Assert.DoesNotContain(view.Links, l => l.A == "core1" && l.B == "edge1");   // edge1's report, kept
    }

    [RedisFact]
    public async Task A_forged_revision_near_long_MaxValue_in_Redis_is_neither_served_nor_a_fence_and_is_overwritten()
    {
        // Whoever can write to Redis forges the state: a revision a director would never write, to overflow
        // "the next revision" or to fence every later write out.
        var forged = (long.MaxValue - 1).ToString();
        await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.Configuration))
        {
            await redis.GetDatabase().HashSetAsync("mesh:test:director",
                [new("revision", forged), new("hash", "x"), new("config", "[mesh]\nname = \"forged\""), new("savedAt", DateTimeOffset.UtcNow.ToString("O"))]);
            await redis.GetDatabase().HashSetAsync("mesh:test:observed", [new("revision", forged), new("json", "{}")]);
        }
        await using var store = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
        var director = Sys.ActorOf(DirectorActor.Props(DirectorSettings.For(_config), store, mediator: null));
        var status = await director.Ask<DirectorStatus>(GetDirectorStatus.Instance, TimeSpan.FromSeconds(15));
        Assert.Equal(1, status.Version);   // its own file, as for an empty store; not the forged revision, nor forged + 1
        await AwaitAssertAsync(async () => Assert.Equal(1, (await store.LoadAsync(default))?.Revision), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(250));

        await File.WriteAllTextAsync(_config, TestMesh.Config + "\n# an edit\n");
        await AwaitAssertAsync(async () => Assert.Equal(2, (await director.Ask<DirectorStatus>(GetDirectorStatus.Instance, TimeSpan.FromSeconds(5))).Version),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(250));
        await AwaitAssertAsync(async () => Assert.Equal(2, (await store.LoadAsync(default))?.Revision), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(250));
    }

    [RedisFact]
    public async Task Observations_under_an_older_revision_cannot_overwrite_newer_ones()
    {
        await using var store = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "test");
        ObservedState Observed(long revision) => new(revision, [], [], [], [], DateTimeOffset.UtcNow);
        Assert.True(await store.SaveObservedAsync(Observed(4), default));
        Assert.False(await store.SaveObservedAsync(Observed(3), default));
        Assert.Equal(4, (await store.LoadObservedAsync(default))!.Revision);
    }
}
