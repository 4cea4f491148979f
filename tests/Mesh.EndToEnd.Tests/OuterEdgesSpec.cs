using System.Net;
using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The outer edges of one real gateway (issue 13): who may connect to an entry, the limits that keep the
/// gateway alive under a flood, and what the API costs an attacker. Real processes, real sockets.
/// </summary>
public sealed class OuterEdgesSpec : IAsyncLifetime
{
    private readonly SoloCore _core = new();
    private readonly EchoServer _echo = new();
    private readonly int _guarded = FreePorts.Next(), _limited = FreePorts.Next(), _other = FreePorts.Next();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _core.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private string Config(string guardedAllow) => _core.Config($$"""
        [services.echo]
        gateway = "core1"
        target = "127.0.0.1:{{_echo.Port}}"
        [[entries]]
        gateway = "core1"
        listen = "127.0.0.1:{{_guarded}}"
        service = "echo"
        allow = [{{guardedAllow}}]
        [[entries]]
        gateway = "core1"
        listen = "127.0.0.1:{{_limited}}"
        service = "echo"
        max_connections = 3
        [[entries]]
        gateway = "core1"
        listen = "127.0.0.1:{{_other}}"
        service = "echo"
        """);

    /// <summary>Connects, and says how the entry answered: "reset" at once, or "served" (the echo came back).</summary>
    private static async Task<string> TryAsync(int port)
    {
        try
        {
            // on loopback the entry's reset can arrive before the connect completes: the connect then fails with it
            using var s = await ClientFlows.ConnectAsync(port);
            await s.SendAsync("hello"u8.ToArray());
            var buffer = new byte[5];
            var n = await s.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            return n == 5 ? "served" : "closed";
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { return "reset"; }
    }

    private async Task<string> MetricsAsync()
    {
        using var http = _core.Http();
        return await http.GetStringAsync("/metrics");
    }

    [Fact]
    public async Task An_allow_list_refuses_others_at_once_counts_it_and_a_hot_reload_opens_it()
    {
        await _core.StartAsync(Config("\"10.99.0.0/16\""));
        await _core.Node.WaitForEntryListeningAsync($"127.0.0.1:{_guarded}", "echo", TestMesh.Ready);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("reset", await TryAsync(_guarded));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"refused after {clock.Elapsed}");
        for (var i = 0; i < 20; i++) Assert.Equal("reset", await TryAsync(_guarded));
        Assert.Contains($"mesh_entry_refusals_total{{entry=\"127.0.0.1:{_guarded}\",reason=\"not_allowed\"}} 21", await MetricsAsync());
        await File.WriteAllTextAsync(_core.ConfigPath, Config("\"127.0.0.0/8\""));
        // an entry's allow list has no surface but this line, which the count of refusal lines below also relies on
        await _core.Node.WaitForLineAsync(l => l.Contains($"entry 127.0.0.1:{_guarded} for echo: allow 127.0.0.0/8"), TimeSpan.FromSeconds(15));
        Assert.Equal("served", await TryAsync(_guarded));
        // the entry logged the refusals before it logged its new allow list: all of them are printed by now
        var logged = _core.Node.Output.Split('\n').Count(l => l.Contains("refused a client from 127.0.0.1"));
        Assert.Equal(1, logged);   // once per source a minute, not 21 lines
    }

    [Fact]
    public async Task A_flood_past_max_connections_is_refused_while_other_entries_the_api_reloads_and_the_store_keep_working()
    {
        await _core.StartAsync(Config("\"127.0.0.0/8\""));
        await _core.Node.WaitForEntryListeningAsync($"127.0.0.1:{_limited}", "echo", TestMesh.Ready);
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var s = await ClientFlows.ConnectAsync(_limited);
                await s.SendAsync("x"u8.ToArray());
                await s.ReceiveAsync(new byte[1]);   // served and held open
                held.Add(s);
            }
            for (var i = 0; i < 50; i++) Assert.Equal("reset", await TryAsync(_limited));   // the flood
            Assert.Contains($"mesh_entry_refusals_total{{entry=\"127.0.0.1:{_limited}\",reason=\"max_connections\"}} 50", await MetricsAsync());

            Assert.Equal("served", await TryAsync(_other));   // another entry
            await File.WriteAllTextAsync(_core.ConfigPath, Config("\"127.0.0.0/8\", \"10.0.0.0/8\""));   // a hot reload, stored as v2
            using var http = _core.Http();
            var config = await http.PollJsonAsync("/v1/config", c => c.GetProperty("revision").GetInt64() == 2, TimeSpan.FromSeconds(15));
            Assert.Equal(2, config.GetProperty("revision").GetInt64());
            // the replica on disk holds the whole config: owner-only files in an owner-only directory
            var replica = Path.Combine(_core.Dir, "state", "replica");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(replica));
            Assert.All(Directory.GetFiles(replica), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
            Assert.NotEmpty(Directory.GetFiles(replica));
        }
        finally { foreach (var s in held) s.Dispose(); }
        // room again once the gateway has seen the clients leave
        Assert.True(await Poll.UntilAsync(async () => await TryAsync(_limited) == "served", TimeSpan.FromSeconds(10)), "the entry stays full after its clients left");
    }

    [Fact]
    public async Task Ten_thousand_unknown_route_names_cost_nothing_and_nothing_raw_is_logged()
    {
        await _core.StartAsync(Config("\"127.0.0.0/8\""));
        using var http = _core.Http();
        await http.WaitReadyAsync(TestMesh.Ready);
        var rssBefore = Rss(_core.Node);
        var random = new Random(7);
        var sent = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 10_000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var name = i % 2 == 0 ? $"g{random.Next():x}{new string('a', 200)}" : $"evil%0AINFO%20forged-{i}";
            using var response = await http.GetAsync($"/v1/routes/{name}", ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Interlocked.Increment(ref sent);
        });
        Assert.Equal(10_000, sent);
        var grown = Rss(_core.Node) - rssBefore;
        Assert.True(grown < 30 << 20, $"RSS grew by {grown >> 20} MiB over 10,000 unknown names");
        Assert.DoesNotContain("forged", _core.Node.Output);
        Assert.DoesNotContain("aaaaaaaaaa", _core.Node.Output);
    }

    private static long Rss(NodeProcess node)
    {
        var status = File.ReadAllLines($"/proc/{node.Pid}/status").First(l => l.StartsWith("VmRSS:"));
        return long.Parse(status.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
