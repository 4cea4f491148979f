using System.Text.Json;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>`mesh cluster show` and `mesh cluster leave` against real processes: the director moves to the other core gateway.</summary>
public sealed class ClusterCliSpec : IAsyncLifetime
{
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();
    private string Api => $"http://127.0.0.1:{_mesh.ApiPort}";

    public async Task InitializeAsync()
    {
        await _mesh.StartAsync(_echo.Port, downPort: FreePorts.Next(), api: true);
        await _mesh.ReadyForFlowsAsync();
        using var http = TestMesh.Http(Api);
        await http.WaitReadyAsync(TestMesh.Ready);
        // the director answers once core1 is Up; core2 may still be joining (its route table came through core1)
        await http.PollJsonAsync("/v1/cluster", c => c.TryGetProperty("members", out var m)
            && m.EnumerateArray().Count(x => x.GetProperty("status").GetString() == "Up") == 2, TestMesh.Ready);
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private async Task<JsonElement?> DirectorMember()
    {
        var show = await MeshCli.RunAsync(["cluster", "show", "--json", "--api", Api]);
        if (show.Out.Length == 0) return null;   // core1's control plane is starting again: 503 (exit 1 with an answer: a member is unreachable)
        return JsonDocument.Parse(show.Out).RootElement.GetProperty("members").EnumerateArray()
            .Where(m => m.GetProperty("director").GetBoolean()).Cast<JsonElement?>().FirstOrDefault();
    }

    [Fact]
    public async Task Cluster_show_lists_the_members_and_leave_moves_the_director_to_the_other_core_gateway()
    {
        var table = await MeshCli.RunAsync(["cluster", "show", "--api", Api]);
        Assert.Equal(0, table.ExitCode);
        Assert.Matches(@"core1\s+akka\.ssl\.tcp://mesh@127\.0\.0\.1:\d+\s+Up\s+yes\s+(leader )?director", table.Out);   // the leader is the lowest address
        Assert.Matches(@"core2\s+akka\.ssl\.tcp://mesh@127\.0\.0\.1:\d+\s+Up\s+yes", table.Out);
        Assert.Equal("core1", (await DirectorMember())?.GetProperty("gateway").GetString());

        var unknown = await MeshCli.RunAsync(["cluster", "leave", "nosuch", "--api", Api, "--token", TestMesh.ApiToken]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no cluster member is 'nosuch' (members: core1, core2)", unknown.Err);

        var leave = await MeshCli.RunAsync(["cluster", "leave", "core1", "--api", Api, "--token", TestMesh.ApiToken]);
        Assert.Equal(0, leave.ExitCode);
        Assert.StartsWith("core1 (akka.ssl.tcp://mesh@127.0.0.1:", leave.Out);

        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string? director;
        while ((director = (await DirectorMember())?.GetProperty("gateway").GetString()) != "core2" && DateTime.UtcNow < deadline)
            await retry.WaitForNextTickAsync();
        Assert.Equal("core2", director);   // seen through core1's API once its control plane rejoined
    }

    [Fact]
    public async Task Events_follow_prints_an_event_as_it_happens_and_with_n_0_only_new_ones()
    {
        using var follow = MeshCli.Start(["events", "--follow", "--json", "--api", Api]);
        using var fromNow = MeshCli.Start(["events", "--follow", "-n", "0", "--api", Api]);
        var fromNowLines = System.Threading.Channels.Channel.CreateUnbounded<string>();
        var reading = Task.Run(async () =>
        {
            while (await fromNow.StandardOutput.ReadLineAsync() is { } l) await fromNowLines.Writer.WriteAsync(l);
        });
        try
        {
            Assert.Contains("reload-applied", await follow.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));   // the past first

            // each change is a new revision; change again until the -n 0 follower, which may not have asked yet, prints one
            var original = await File.ReadAllTextAsync(_mesh.ConfigPath);
            var printed = new List<string>();
            using var retry = new PeriodicTimer(TimeSpan.FromSeconds(2));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            for (var pool = 5; !printed.Any(l => l.Contains("reload-applied")) && DateTime.UtcNow < deadline; pool++)
            {
                await File.WriteAllTextAsync(_mesh.ConfigPath, original.Replace("pool_size = 4", $"pool_size = {pool}"));   // applied as v2, v3, ...
                await retry.WaitForNextTickAsync();
                while (fromNowLines.Reader.TryRead(out var l)) printed.Add(l);
            }
            Assert.Contains(printed, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"reload-applied  route map v([2-9]|\d\d) "));
            Assert.DoesNotContain(printed, l => l.Contains("route map v1 "));   // nothing from before it started

            string? line;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            do line = await follow.StandardOutput.ReadLineAsync(timeout.Token);
            while (line is not null && !line.Contains("route map v2"));
            var e = JsonDocument.Parse(line!).RootElement;
            Assert.Equal("reload-applied", e.GetProperty("kind").GetString());
        }
        finally
        {
            follow.Kill();
            fromNow.Kill();
            await reading;
        }
    }

    [Fact]
    public async Task Cluster_down_removes_a_member_whose_gateway_then_starts_its_control_plane_again_and_rejoins()
    {
        var mark = _mesh.Core2.Mark();
        var down = await MeshCli.RunAsync(["cluster", "down", "core2", "--api", Api, "--token", TestMesh.ApiToken]);
        Assert.Equal(0, down.ExitCode);
        Assert.StartsWith("core2 (akka.ssl.tcp://mesh@127.0.0.1:", down.Out);
        // core2 serves no API, and its control plane is down for a moment only: its line is the sign it stopped
        await _mesh.Core2.WaitForLineAsync(l => l.Contains("the control plane stopped on its own"), TimeSpan.FromSeconds(60), mark);

        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        bool rejoined;
        do
        {
            var show = await MeshCli.RunAsync(["cluster", "show", "--json", "--api", Api]);
            rejoined = show.ExitCode == 0 && JsonDocument.Parse(show.Out).RootElement.GetProperty("members").EnumerateArray()
                .Any(m => m.GetProperty("gateway").GetString() == "core2" && m.GetProperty("status").GetString() == "Up");
        } while (!rejoined && DateTime.UtcNow < deadline && await retry.WaitForNextTickAsync());
        Assert.True(rejoined, "core2 did not rejoin within 60 s");
    }
}
