using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests.Seed;

/// <summary>One seed topology and mesh for the whole suite.</summary>
public sealed class SeedFixture : IAsyncLifetime
{
    public SeedMesh Mesh { get; } = new();

    public async Task InitializeAsync()
    {
        if (new SeedFactAttribute().Skip is not null) return;
        await Mesh.StartAsync();
    }

    public async Task DisposeAsync() => await Mesh.DisposeAsync();
}

/// <summary>
/// The founding example (samples/seed/mesh.toml), run for real in network namespaces (docs/testing.md, the
/// seed suite): what each site's apps reach through their entries, and the paths the mesh takes to get there.
/// </summary>
public sealed class SeedSpec(SeedFixture fixture, ITestOutputHelper output) : IClassFixture<SeedFixture>
{
    private SeedMesh Mesh => fixture.Mesh;
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    private async Task AssertComesBackWhole(string host, IPEndPoint entry, long size, string what)
    {
        var clock = Stopwatch.StartNew();
        var (sent, received, bytes) = await ClientFlows.RoundTripAsync(await Mesh.ConnectAsync(host, entry), size);
        Assert.True(bytes == size && sent == received,
            $"{what}: {bytes} of {size} bytes came back ({(sent == received ? "same" : "different")} hash); warnings:\n{Mesh.Warnings()}");
        output.WriteLine($"{what}: {size >> 20} MiB each way, byte-exact, in {clock.Elapsed.TotalSeconds:0.00}s");
    }

    /// <summary>The next hop <paramref name="gateway"/>'s route table gives towards <paramref name="destination"/> (null: none).</summary>
    private static string? Via(JsonElement table, string destination) =>
        table.ValueKind != JsonValueKind.Object ? null
        : table.GetProperty("nextHops").EnumerateArray().Where(h => h.GetProperty("destination").GetString() == destination)
            .Select(h => h.GetProperty("via").GetString()).FirstOrDefault();

    private async Task<JsonElement> RoutesAsync(HttpClient api, string gateway, string destination, string via)
    {
        var table = await api.PollJsonAsync($"/v1/routes/{gateway}", t => Via(t, destination) == via, Within);
        Assert.True(Via(table, destination) == via, $"{gateway}'s route table: towards {destination} via {Via(table, destination) ?? "nothing"}, not {via}: {table}");
        return table;
    }

    [SeedFact]
    public async Task Every_service_of_the_seed_is_up_at_the_director_with_the_check_kind_the_seed_gives_it()
    {
        output.WriteLine(string.Concat(File.ReadLines(Mesh.ConfigPath).TakeWhile(l => l.StartsWith('#')).Select(l => l + "\n")));
        output.WriteLine($"the mesh started in {Mesh.StartedIn.TotalSeconds:0.0}s (first gateway started -> every service up and a flow through each echo entry)");
        using var api = Mesh.Api();
        var health = await api.GetJsonAsync("/v1/health");
        var services = health.GetProperty("services").EnumerateArray()
            .ToDictionary(s => s.GetProperty("service").GetString()!, s => (Owner: s.GetProperty("owner").GetString(), Check: s.GetProperty("check").GetString(), State: s.GetProperty("state").GetString()));
        output.WriteLine(string.Join("\n", services.Select(s => $"{s.Key,-7} {s.Value.Owner,-7} {s.Value.Check,-6} {s.Value.State}")));
        Assert.Equal(("site-a", "http", "up"), services["app"]);
        Assert.Equal(("site-a", "redis", "up"), services["redis1"]);
        Assert.Equal(("site-b", "tcp", "up"), services["redis2"]);      // no check in the seed: tcp by default
        Assert.Equal(("site-b", "tcp", "up"), services["mysql1"]);
        Assert.True(Mesh.App.HealthChecks > 0, "the app at site-a was never asked GET /health");
    }

    [SeedFact]
    public async Task Site_c_entries_reach_redis1_and_the_app_at_site_a_through_core2()
    {
        using var api = Mesh.Api();
        await RoutesAsync(api, "site-c", "site-a", "core2");   // site-c's firewall lets it reach core2 only

        // a redis client at site-c: PING, SET, GET through the entry; then redis1 itself, at site-a, holds the value
        var clock = Stopwatch.StartNew();
        var value = $"set at site-c {Guid.NewGuid():N}";
        using (var redis = new Resp(await Mesh.ConnectAsync("site-c", SeedMesh.SiteCRedis1)))
        {
            using var timeout = new CancellationTokenSource(Within);
            Assert.Equal("+PONG", await redis.CommandAsync(timeout.Token, "PING"));
            Assert.Equal("+OK", await redis.CommandAsync(timeout.Token, "SET", "seed:from-site-c", value));
            Assert.Equal(value, await redis.CommandAsync(timeout.Token, "GET", "seed:from-site-c"));
        }
        output.WriteLine($"site-c {SeedMesh.SiteCRedis1} -> redis1: PING, SET, GET in {clock.Elapsed.TotalMilliseconds:0} ms");
        using (var local = new Resp(await Mesh.ConnectAsync("site-a", new IPEndPoint(IPAddress.Loopback, 9000))))
            Assert.Equal(value, await local.CommandAsync(CancellationToken.None, "GET", "seed:from-site-c"));

        // a browser at site-c: GET / through the entry is answered by the app at site-a
        clock.Restart();
        var pages = Mesh.App.Pages;
        var (status, body) = await Http.GetAsync(await Mesh.ConnectAsync("site-c", SeedMesh.SiteCApp), $"{SeedMesh.SiteCLan}", "/");
        output.WriteLine($"site-c {SeedMesh.SiteCApp} -> app: '{status}' in {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal("HTTP/1.1 200 OK", status);
        Assert.Equal(SeedApp.Body, body);
        Assert.Equal(pages + 1, Mesh.App.Pages);
    }

    [SeedFact]
    public async Task Site_a_local_mysql_port_reaches_mysql1_behind_site_b_NAT_byte_exact()
    {
        // the app server at site-a uses 127.0.0.1:3306 as a local mysql; mysql1 is a host on site-b's LAN
        await AssertComesBackWhole("site-a", SeedMesh.SiteAMysql1, 4 << 20, "site-a 127.0.0.1:3306 -> mysql1 (site-b, behind NAT)");
    }

    [SeedFact]
    public async Task Site_b_entries_reach_redis2_and_mysql1_on_its_own_LAN()
    {
        using (var redis = new Resp(await Mesh.ConnectAsync("site-b", SeedMesh.SiteBRedis2)))
        {
            using var timeout = new CancellationTokenSource(Within);
            Assert.Equal("+PONG", await redis.CommandAsync(timeout.Token, "PING"));
            Assert.Equal("+OK", await redis.CommandAsync(timeout.Token, "SET", "seed:site-b", "local"));
            Assert.Equal("local", await redis.CommandAsync(timeout.Token, "GET", "seed:site-b"));
        }
        await AssertComesBackWhole("site-b", SeedMesh.SiteBMysql1, 1 << 20, "site-b 10.98.2.10:3306 -> mysql1 (10.98.2.11)");
    }

    [SeedFact]
    public async Task A_flow_from_site_c_to_site_b_crosses_core2_and_site_a_and_is_byte_exact()
    {
        // The paths the director computed from the links the gateways report working: site-c reaches only
        // core2, site-b only site-a; so site-c -> core2 -> site-a -> site-b.
        using var api = Mesh.Api();
        await RoutesAsync(api, "site-c", "site-b", "core2");
        await RoutesAsync(api, "core2", "site-b", "site-a");
        await RoutesAsync(api, "site-a", "site-b", "site-b");
        var links = (await api.GetJsonAsync("/v1/links")).EnumerateArray()
            .Select(l => string.Join("-", new[] { l.GetProperty("a").GetString(), l.GetProperty("b").GetString() }.Order(StringComparer.Ordinal))).ToList();
        output.WriteLine($"links the paths use: {string.Join(", ", links)}");
        Assert.DoesNotContain("site-a-site-c", links);
        Assert.DoesNotContain("core2-site-b", links);

        // The bytes cross core2 and site-a's NAT router: each carries the flow both ways (plus TLS and frames).
        const long size = 4 << 20;
        var (core2, natA, natC) = (Mesh.Bytes("core2"), Mesh.Bytes("nat-a"), Mesh.Bytes("nat-c"));
        await AssertComesBackWhole("site-c", SeedMesh.SiteCMysql1, size, "site-c 10.98.3.10:3306 -> core2 -> site-a -> mysql1 (site-b)");
        var (core2After, natAAfter, natCAfter) = (Mesh.Bytes("core2"), Mesh.Bytes("nat-a"), Mesh.Bytes("nat-c"));
        string Delta((long Rx, long Tx) before, (long Rx, long Tx) after) => $"{(after.Rx - before.Rx) / 1048576.0:0.0} MiB in, {(after.Tx - before.Tx) / 1048576.0:0.0} MiB out";
        output.WriteLine($"during the flow: core2 {Delta(core2, core2After)}; site-a's NAT (wan) {Delta(natA, natAAfter)}; site-c's NAT (wan) {Delta(natC, natCAfter)}");
        Assert.True(core2After.Rx - core2.Rx >= 2 * size && core2After.Tx - core2.Tx >= 2 * size, $"core2 did not carry the flow: {Delta(core2, core2After)}");
        Assert.True(natAAfter.Rx - natA.Rx >= 2 * size && natAAfter.Tx - natA.Tx >= 2 * size, $"site-a did not carry the flow: {Delta(natA, natAAfter)}");
    }

    [SeedFact]
    public async Task Site_b_cut_off_from_site_a_first_public_address_comes_back_through_the_second()
    {
        // site-a's second public address is one of its links too: when a firewall upstream of site-b drops
        // everything to the first one, site-b's link and its control channel move to the second.
        await Mesh.FirstWorkingFlowAsync("site-a", SeedMesh.SiteAMysql1, Within);
        var siteB = Mesh["site-b"];
        var mark = siteB.Mark();
        var blocked = Stopwatch.StartNew();
        Mesh.Block("nat-b", SeedMesh.SiteAPublic1);
        try
        {
            async Task<string> Seen(Func<string, bool> match, TimeSpan within)
            {
                var line = await siteB.WaitForLineAsync(match, within, mark);
                return $"{blocked.Elapsed.TotalSeconds:0.0}s: {line[(line.LastIndexOf(']') + 1)..].Trim()}";
            }
            var lost = Seen(l => l.Contains("link to site-a lost"), Within);
            var control = Seen(l => l.Contains("control channel to the director up through") && l.Contains($"{SeedMesh.SiteAPublic2}:"), TimeSpan.FromSeconds(60));
            var up = Seen(l => l.Contains("link to site-a up") && l.Contains($"({SeedMesh.SiteAPublic2}:{SeedMesh.LinkPort})"), TimeSpan.FromSeconds(60));   // "up again after Ns (ADDRESS)"
            foreach (var line in await Task.WhenAll(lost, control, up)) output.WriteLine(line);
            var first = await Mesh.FirstWorkingFlowAsync("site-a", SeedMesh.SiteAMysql1, Within);
            output.WriteLine($"{blocked.Elapsed.TotalSeconds:0.0}s: site-a 127.0.0.1:3306 -> mysql1 works again ({first.TotalSeconds:0.0}s after site-b's link was up)");
            await AssertComesBackWhole("site-a", SeedMesh.SiteAMysql1, 1 << 20, "site-a 127.0.0.1:3306 -> mysql1 over the second address");
        }
        finally { Mesh.Unblock("nat-b", SeedMesh.SiteAPublic1); }
    }

    [SeedFact]
    public async Task Site_a_bound_to_0000_behind_1to1_NAT_and_advertising_its_public_address_carries_the_cluster_and_flows_on_both_addresses()
    {
        // The cluster: core2 joined through site-a's public address; both members are up, site-a hosts the director.
        using var api = Mesh.Api();
        var cluster = await api.GetJsonAsync("/v1/cluster");
        var members = cluster.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("gateway").GetString()!);
        output.WriteLine(string.Join("\n", members.Values.Select(m => $"{m.GetProperty("gateway").GetString(),-7} {m.GetProperty("address").GetString()} {m.GetProperty("status").GetString()}{(m.GetProperty("director").GetBoolean() ? " director" : "")}")));
        Assert.Equal($"akka.ssl.tcp://mesh@{SeedMesh.SiteAPublic1}:{SeedMesh.ClusterPort}", members["site-a"].GetProperty("address").GetString());
        Assert.Equal($"akka.ssl.tcp://mesh@{SeedMesh.Core2}:{SeedMesh.ClusterPort}", members["core2"].GetProperty("address").GetString());
        Assert.All(members.Values, m => Assert.Equal("Up", m.GetProperty("status").GetString()));
        Assert.True(members["site-a"].GetProperty("director").GetBoolean());
        var welcome = await Mesh["core2"].WaitForLineAsync(l => l.Contains("cluster: site-a is up (") && l.Contains($"{SeedMesh.SiteAPublic1}:{SeedMesh.ClusterPort}"), Within);
        output.WriteLine($"core2: {welcome}");

        // The links: core2 dials site-a at its public address (through the NAT), and site-a dials out to core2.
        output.WriteLine($"core2: {await Mesh["core2"].WaitForLineAsync(l => l.Contains("link to site-a up"), Within)}");
        output.WriteLine($"site-b: {await Mesh["site-b"].WaitForLineAsync(l => l.Contains("link to site-a up"), Within)}");

        // The entries: an app on the internet uses both public addresses; the NAT maps each to site-a's host.
        foreach (var address in new[] { SeedMesh.SiteAPublic1, SeedMesh.SiteAPublic2 })
        {
            var clock = Stopwatch.StartNew();
            var (status, body) = await Http.GetAsync(await Mesh.ConnectAsync("user", SeedMesh.Public(address, 80)), address, "/");
            Assert.Equal("HTTP/1.1 200 OK", status);
            Assert.Equal(SeedApp.Body, body);
            using var redis = new Resp(await Mesh.ConnectAsync("user", SeedMesh.Public(address, 9000)));
            using var timeout = new CancellationTokenSource(Within);
            Assert.Equal("+PONG", await redis.CommandAsync(timeout.Token, "PING"));
            output.WriteLine($"the internet -> {address}:80 (app) and {address}:9000 (redis1): 200 and PONG in {clock.Elapsed.TotalMilliseconds:0} ms");
        }
    }
}
