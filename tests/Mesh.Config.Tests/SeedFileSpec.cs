using Mesh.Config;

namespace Mesh.Config.Tests;

public sealed class SeedFileSpec
{
    private static RouteMap LoadSeed()
    {
        var result = RouteMapLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "samples", "seed.toml"));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Map!;
    }

    [Fact]
    public void The_seed_example_is_valid_and_read_completely()
    {
        var map = LoadSeed();
        Assert.Equal("acme", map.MeshName);
        Assert.Equal(["site-a", "site-b", "site-c"], map.Gateways.Keys);
        Assert.Equal(GatewayKind.Core, map.Gateways["site-a"].Kind);
        Assert.Equal([HostPort.Parse("212.3.247.26:7443"), HostPort.Parse("212.4.1.1:7443")], map.Gateways["site-a"].Links.ToArray());
        Assert.Equal(GatewayKind.Edge, map.Gateways["site-b"].Kind);
        Assert.Equal(["app", "mysql1", "redis1", "redis2"], map.Services.Keys);
        Assert.Equal(9, map.Entries.Length);
        Assert.Equal(MeshSettings.Default, map.Settings);
    }

    [Fact]
    public void Mesh_settings_can_be_tuned_and_are_checked()
    {
        var ok = RouteMapLoader.Load("[mesh]\nname = \"m\"\npool_size = 2\nflow_idle_timeout = \"10m\"\ndial_timeout = \"2s\"\n", "m.toml");
        Assert.Equal(new MeshSettings(2, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(2)), ok.Map!.Settings);
        var bad = RouteMapLoader.Load("[mesh]\nname = \"m\"\npool_size = -1\ndial_timeout = \"soon\"\n", "m.toml");
        Assert.Equal(["m.toml:3: mesh.pool_size: must be from 0 to 1000, not -1", "m.toml:4: mesh.dial_timeout: 'soon' is not a duration: write e.g. \"500ms\", \"5s\", \"1m\""],
            bad.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Services_carry_owner_target_and_check()
    {
        var map = LoadSeed();
        var app = map.Services["app"];
        Assert.Equal(("site-a", "127.0.0.1", 80), (app.Gateway, app.Target.Host, app.Target.Port));
        Assert.Equal(new HealthCheck(CheckKind.Http, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), 2, 3, "/health"), app.Check);
        Assert.Equal(CheckKind.Redis, map.Services["redis1"].Check.Kind);
        Assert.Equal(HealthCheck.DefaultTcp, map.Services["redis2"].Check);   // no check given: a TCP connect
    }

    [Fact]
    public void Entries_say_which_gateway_listens_where_for_which_service()
    {
        var map = LoadSeed();
        Assert.Equal(
            ["212.3.247.26:80 app", "212.3.247.26:9000 redis1", "212.4.1.1:80 app", "212.4.1.1:9000 redis1", "127.0.0.1:3306 mysql1"],
            map.EntriesOn("site-a").Select(e => $"{e.Listen} {e.Service}"));
        Assert.Equal(["mysql1", "redis2"], map.ServicesOwnedBy("site-b").Select(s => s.Name));
    }

    [Fact]
    public void Same_text_gives_same_content_hash_and_other_text_another()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "seed.toml"));
        var a = RouteMapLoader.Load(text, "a.toml").Map!;
        var b = RouteMapLoader.Load(text, "b.toml").Map!;
        var c = RouteMapLoader.Load(text + "\n# changed\n", "c.toml").Map!;
        Assert.Equal(a.ContentHash, b.ContentHash);
        Assert.NotEqual(a.ContentHash, c.ContentHash);
    }
}
