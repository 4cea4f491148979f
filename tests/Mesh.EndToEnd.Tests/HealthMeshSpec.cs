using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Mesh.Tests.Shared;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A real redis-server owned by an edge gateway, published on a core gateway's entry, in a mesh of real
/// processes: killed, it is reported down to the director (API, events) and the entry refuses clients at
/// connect (ECONNREFUSED, as a local redis that is down); started again, it is up and flows work, with no
/// restart of anything.
/// </summary>
public sealed class HealthMeshSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Interval = "500ms", Timeout = "500ms";
    private const int Rise = 2, Fall = 2;
    private readonly EchoServer _echo = new();
    private readonly RedisServer _redis = new();
    private readonly TestMesh _mesh = new();
    private readonly int _cacheEntry = FreePorts.Next();
    /// <summary>An entry for it on edge2: edge2 learns the service is down from a delta over its control channel.</summary>
    private readonly int _edgeCacheEntry = FreePorts.Next();
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        if (RedisServer.WhyUnavailable is not null) return;
        await _redis.StartAsync();
        await _mesh.StartAsync(_echo.Port, FreePorts.Next(), api: true, moreServices: $$"""
            [services.cache]
            gateway = "edge1"
            target = "127.0.0.1:{{_redis.Port}}"
            check = { kind = "redis", interval = "{{Interval}}", timeout = "{{Timeout}}", rise = {{Rise}}, fall = {{Fall}} }
            """, moreEntries: $$"""
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{_cacheEntry}}"
            service = "cache"
            [[entries]]
            gateway = "edge2"
            listen = "127.0.0.1:{{_edgeCacheEntry}}"
            service = "cache"
            """);
        await _mesh.ReadyForFlowsAsync();
        _http = TestMesh.Http($"http://127.0.0.1:{_mesh.ApiPort}");
        await _http.WaitReadyAsync(TestMesh.Ready);
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        await _mesh.DisposeAsync();
        await _redis.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private Task<JsonElement> CacheHealth(string state) => _http.PollJsonAsync("/v1/services/cache",
        s => s.GetProperty("health").GetString() == state, TimeSpan.FromSeconds(20));

    private static string RouteTables(string received) => $"mesh_route_tables_total{{received=\"{received}\"}}";

    private async Task<string> PingThroughEntry()
    {
        using var s = await ClientFlows.ConnectAsync(_cacheEntry);
        await s.SendAsync("PING\r\n"u8.ToArray());
        var buffer = new byte[7];
        var n = 0;
        while (n < buffer.Length && await s.ReceiveAsync(buffer.AsMemory(n)) is var got and > 0) n += got;
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    [RedisFact]
    public async Task A_killed_redis_is_reported_down_refused_at_connect_on_the_entry_within_a_second_and_up_again_when_restarted()
    {
        Assert.Equal("up", (await CacheHealth("up")).GetProperty("health").GetString());
        Assert.Equal("+PONG\r\n", await PingThroughEntry());

        await _mesh.Edge2.WaitForEntryListeningAsync($"127.0.0.1:{_edgeCacheEntry}", "cache", TimeSpan.FromSeconds(10));
        var whole = await _mesh.Edge2.WaitForMetricAsync(RouteTables("whole"), v => v >= 1, TimeSpan.FromSeconds(5));
        var deltas = await _mesh.Edge2.WaitForMetricAsync(RouteTables("delta"), _ => true, TimeSpan.FromSeconds(5)) ?? 0;
        var killed = Stopwatch.StartNew();
        await _redis.StopAsync();
        var down = await CacheHealth("down");
        output.WriteLine($"redis killed: the director shows it down after {killed.Elapsed.TotalSeconds:0.0}s");
        Assert.Equal("down", down.GetProperty("health").GetString());
        Assert.Contains("connection refused", down.GetProperty("healthReason").GetString());
        // fall probes one interval apart, then one report to the director; a second of slack for the processes
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(Fall * 0.5 + 0.5 + 2), $"down shown after {killed.Elapsed}");
        var events = await _http.GetJsonAsync("/v1/events");
        Assert.Contains(events.EnumerateArray(), e => e.GetProperty("kind").GetString() == "service-down" && e.GetProperty("subject").GetString() == "cache"
            && e.GetProperty("message").GetString()!.Contains("owned by edge1"));
        var health = await _http.GetJsonAsync("/v1/health");
        Assert.True(health.GetProperty("down").GetInt32() >= 1);

        // core1 learns it from its next route table, shortly after the director
        var shownDown = Stopwatch.StartNew();
        await _mesh.Core1.WaitForEntryNotListeningAsync($"127.0.0.1:{_cacheEntry}", "cache", TimeSpan.FromSeconds(5));
        output.WriteLine($"core1's entry stopped listening {shownDown.Elapsed.TotalMilliseconds:0}ms after the director showed cache down");
        Assert.True(shownDown.Elapsed < TimeSpan.FromSeconds(1), $"the entry listened {shownDown.Elapsed} after the director knew");
        var refused = await Assert.ThrowsAsync<SocketException>(() => ClientFlows.ConnectAsync(_cacheEntry));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        // edge2 too, from what changed since the table it held (a delta over its control channel), not a whole table
        await _mesh.Edge2.WaitForEntryNotListeningAsync($"127.0.0.1:{_edgeCacheEntry}", "cache", TimeSpan.FromSeconds(5));
        await _mesh.Edge2.WaitForMetricAsync(RouteTables("delta"), v => v > deltas, TimeSpan.FromSeconds(5));
        Assert.Equal(whole, await _mesh.Edge2.WaitForMetricAsync(RouteTables("whole"), _ => true, TimeSpan.FromSeconds(5)));

        var started = Stopwatch.StartNew();
        await _redis.StartAsync();
        await CacheHealth("up");
        output.WriteLine($"redis started again: shown up after {started.Elapsed.TotalSeconds:0.0}s");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(Rise * 0.5 + 2), $"up shown after {started.Elapsed}");
        await _mesh.Core1.WaitForEntryListeningAsync($"127.0.0.1:{_cacheEntry}", "cache", TimeSpan.FromSeconds(5));
        Assert.Equal("+PONG\r\n", await PingThroughEntry());
        Assert.Contains((await _http.GetJsonAsync("/v1/events")).EnumerateArray(), e => e.GetProperty("kind").GetString() == "service-up");
    }
}
