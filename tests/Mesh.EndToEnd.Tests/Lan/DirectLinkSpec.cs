using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests.Lan;

/// <summary>One LAN topology and mesh for the whole suite.</summary>
public sealed class LanFixture : IAsyncLifetime
{
    public LanMesh Mesh { get; } = new();

    public async Task InitializeAsync()
    {
        if (new LanFactAttribute().Skip is not null) return;
        await Mesh.StartAsync();
    }

    public async Task DisposeAsync() => await Mesh.DisposeAsync();
}

/// <summary>
/// Two edges behind one NAT router that declare their LAN addresses (issue 20; docs/testing.md, the Lan
/// suite): their flows take a direct link the core never sees, fall back to the relay through core1 within
/// seconds when that link is blocked, and come back to it once it works again; a flow running on the direct
/// link when it dies ends with a reset at the app, not a hang. Each test starts from, and leaves, the direct
/// link in use.
/// </summary>
public sealed class DirectLinkSpec(LanFixture fixture, ITestOutputHelper output) : IClassFixture<LanFixture>
{
    private const long Size = 16 << 20;
    /// <summary>What the core may see of a direct flow: pings, reports, tables (far less than the flow).</summary>
    private const long Quiet = 2 << 20;
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);
    /// <summary>Flows work again through the relay this soon after the direct link is blocked.</summary>
    private static readonly TimeSpan FallBack = TimeSpan.FromSeconds(20);
    /// <summary>The direct link is in the route table again this soon after it is unblocked.</summary>
    private static readonly TimeSpan Back = TimeSpan.FromSeconds(30);
    /// <summary>
    /// A flow whose path died ends with an error at the app this soon: bytes unacknowledged for 20 s make the
    /// link socket give up (TCP_USER_TIMEOUT); keepalive (10 s idle, probes 3 s apart) ends an idle one at the
    /// first probe past those 20 s (~22 s); then the reset.
    /// </summary>
    private static readonly TimeSpan Broken = TimeSpan.FromSeconds(40);

    private LanMesh Mesh => fixture.Mesh;

    private static string MiB(long bytes) => $"{bytes / 1048576.0:0.00} MiB";

    /// <summary>Sends <see cref="Size"/> bytes through lan-1's entry for echo-2 and back; returns what core1 and the router's wan carried meanwhile.</summary>
    private async Task<((long Rx, long Tx) Core, (long Rx, long Tx) Nat)> FlowAsync(string what)
    {
        var (core, nat) = (Mesh.Bytes("core1"), Mesh.Bytes("nat"));
        var clock = Stopwatch.StartNew();
        var (sent, received, bytes) = await ClientFlows.RoundTripAsync(await Mesh.ConnectAsync("lan-1"), Size);
        Assert.True(bytes == Size && sent == received,
            $"{what}: {bytes} of {Size} bytes came back ({(sent == received ? "same" : "different")} hash); warnings:\n{Mesh.Warnings()}");
        var (coreAfter, natAfter) = (Mesh.Bytes("core1"), Mesh.Bytes("nat"));
        (long, long) Delta((long Rx, long Tx) before, (long Rx, long Tx) after) => (after.Rx - before.Rx, after.Tx - before.Tx);
        var seen = (Core: Delta(core, coreAfter), Nat: Delta(nat, natAfter));
        output.WriteLine($"{what}: {Size >> 20} MiB each way, byte-exact, in {clock.Elapsed.TotalSeconds:0.00}s; meanwhile core1's eth0 "
                         + $"{MiB(seen.Core.Item1)} in, {MiB(seen.Core.Item2)} out; the router's wan {MiB(seen.Nat.Item1)} in, {MiB(seen.Nat.Item2)} out");
        return seen;
    }

    private void AssertCoreSawNone((long Rx, long Tx) core, (long Rx, long Tx) nat, string what)
    {
        Assert.True(core.Rx < Quiet && core.Tx < Quiet, $"{what}: core1's eth0 carried {MiB(core.Rx)} in, {MiB(core.Tx)} out (a direct flow: < {MiB(Quiet)})");
        Assert.True(nat.Rx < Quiet && nat.Tx < Quiet, $"{what}: the router's wan carried {MiB(nat.Rx)} in, {MiB(nat.Tx)} out (a direct flow: < {MiB(Quiet)})");
    }

    /// <summary>Waits until the director's table for lan-1 sends flows to lan-2 via <paramref name="via"/>, and lan-1 runs it.</summary>
    private async Task<(JsonElement Table, TimeSpan Took)> RoutedAsync(HttpClient api, string via, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        var table = await api.PollJsonAsync("/v1/routes/lan-1", t => LanMesh.Hop(t, "lan-2").Via == via, within);
        var took = clock.Elapsed;
        Assert.True(LanMesh.Hop(table, "lan-2").Via == via,
            $"lan-1's route table after {within.TotalSeconds:0}s: towards lan-2 via {LanMesh.Hop(table, "lan-2").Via ?? "nothing"}, not {via}: {table}\n{Mesh.Warnings()}");
        await Mesh.RunsAsync(table, within);
        return (table, took);
    }

    /// <summary>Waits for lan-1's line matching <paramref name="match"/> after <paramref name="mark"/>; returns it stamped with <paramref name="clock"/> when it came.</summary>
    private async Task<string> SeenAsync(Func<string, bool> match, int mark, Stopwatch clock)
    {
        var line = await Mesh["lan-1"].WaitForLineAsync(match, Within, mark);
        return $"{clock.Elapsed.TotalSeconds:0.0}s: lan-1: {line[(line.LastIndexOf(']') + 1)..].Trim()}";
    }

    private static bool IsDirect(JsonElement link) =>
        new[] { link.GetProperty("a").GetString(), link.GetProperty("b").GetString() }.Order(StringComparer.Ordinal).SequenceEqual(["lan-1", "lan-2"]);

    [LanFact]
    public async Task Two_edges_on_one_LAN_link_directly_and_the_core_sees_none_of_their_flows()
    {
        output.WriteLine($"the mesh started in {Mesh.StartedIn.TotalSeconds:0.0}s (core1 started -> every link up and a flow through each entry)");
        using var api = Mesh.Api();
        var (table, _) = await RoutedAsync(api, "lan-2", Within);
        var line = Mesh.LastLinkLine("lan-1", "lan-2");
        output.WriteLine($"lan-1: {line[(line.LastIndexOf(']') + 1)..].Trim()}");
        Assert.Contains("link to lan-2 up", line);
        Assert.Contains($"({LanMesh.Lan2}:{LanMesh.LinkPort})", line);

        // the API: the working links have the direct one, with its cost; the route to lan-2 takes it
        var links = await api.PollJsonAsync("/v1/links", l => l.ValueKind == JsonValueKind.Array && l.EnumerateArray().Any(IsDirect), Within);
        output.WriteLine($"/v1/links: {links}");
        var direct = Assert.Single(links.EnumerateArray(), IsDirect);
        var (via, cost) = LanMesh.Hop(table, "lan-2");
        output.WriteLine($"/v1/routes/lan-1: towards lan-2 via {via}, cost {cost}; towards core1 via {LanMesh.Hop(table, "core1").Via}, cost {LanMesh.Hop(table, "core1").Cost}");
        Assert.True(direct.GetProperty("cost").GetDouble() >= 1, $"the direct link's cost: {direct}");
        Assert.True(cost >= 1, $"the route to lan-2 has no cost: {table}");

        // the CLI, as an operator on core1's host reads them
        var cliLinks = await Mesh.CliAsync("links");
        var cliRoutes = await Mesh.CliAsync("routes", "lan-1");
        output.WriteLine($"$ mesh links\n{cliLinks.Out}{cliLinks.Err}$ mesh routes lan-1\n{cliRoutes.Out}{cliRoutes.Err}");
        Assert.Equal(0, cliLinks.ExitCode);
        Assert.Matches(@"(lan-1 <-> lan-2|lan-2 <-> lan-1)\s+\d+(\.\d+)?\s", cliLinks.Out);
        Assert.Equal(0, cliRoutes.ExitCode);
        Assert.Matches(@"\nlan-2\s+direct\s+\d+(\.\d+)?\s", cliRoutes.Out);

        // the bytes: neither core1 nor the router's uplink carries the flow
        var (core, nat) = await FlowAsync("lan-1 127.0.0.1:8001 -> echo-2 (lan-2), direct");
        AssertCoreSawNone(core, nat, "a direct flow");
    }

    [LanFact]
    public async Task A_blocked_direct_link_falls_back_to_the_relay_within_seconds_and_is_used_again_once_unblocked()
    {
        using var api = Mesh.Api();
        var (directTable, _) = await RoutedAsync(api, "lan-2", Within);
        var blocked = Stopwatch.StartNew();
        var lost = SeenAsync(l => l.Contains("link to lan-2 lost"), Mesh["lan-1"].Mark(), blocked);
        Mesh.Block();
        Stopwatch unblocked;
        Task<string> up;
        try
        {
            // flows find their way through core1 as soon as lan-1 knows the direct link dead
            var first = await Mesh.FirstWorkingFlowAsync("lan-1", FallBack);
            output.WriteLine($"blocked; the first flow through lan-1's entry came back after {first.TotalSeconds:0.0}s (bound {FallBack.TotalSeconds:0}s)");
            output.WriteLine(await lost);
            var (relayTable, routed) = await RoutedAsync(api, "core1", Within);
            output.WriteLine($"{blocked.Elapsed.TotalSeconds:0.0}s: /v1/routes/lan-1 says lan-2 via core1, cost {LanMesh.Hop(relayTable, "lan-2").Cost} "
                             + $"(direct: {LanMesh.Hop(directTable, "lan-2").Cost}), {routed.TotalSeconds:0.0}s after the first flow");
            Assert.True(LanMesh.Hop(directTable, "lan-2").Cost < LanMesh.Hop(relayTable, "lan-2").Cost, "the direct path costs no less than the relay");
            Assert.DoesNotContain((await api.GetJsonAsync("/v1/links")).EnumerateArray(), IsDirect);

            // the relay carries the flow: core1's eth0 sees it twice each way (from lan-1, then on to lan-2, and back)
            var (core, _) = await FlowAsync("lan-1 127.0.0.1:8001 -> core1 -> echo-2 (lan-2), blocked");
            Assert.True(core.Rx >= 2 * Size && core.Tx >= 2 * Size, $"core1 did not relay the flow: {MiB(core.Rx)} in, {MiB(core.Tx)} out");
        }
        finally
        {
            unblocked = Stopwatch.StartNew();
            up = SeenAsync(l => l.Contains("link to lan-2 up"), Mesh["lan-1"].Mark(), unblocked);
            Mesh.Unblock();
        }

        var (table, took) = await RoutedAsync(api, "lan-2", Back);
        output.WriteLine($"unblocked; /v1/routes/lan-1 says lan-2 via lan-2 again after {took.TotalSeconds:0.0}s (bound {Back.TotalSeconds:0}s), cost {LanMesh.Hop(table, "lan-2").Cost}; "
                         + $"lan-1 runs it with its link up at {unblocked.Elapsed.TotalSeconds:0.0}s");
        output.WriteLine(await up);
        var (coreBack, natBack) = await FlowAsync("lan-1 127.0.0.1:8001 -> echo-2 (lan-2), direct again");
        AssertCoreSawNone(coreBack, natBack, "a flow after the direct link came back");
    }

    [LanFact]
    public async Task Flows_on_the_direct_link_when_it_dies_end_with_a_reset_not_a_hang()
    {
        using var api = Mesh.Api();
        await RoutedAsync(api, "lan-2", Within);
        // two apps with a flow on the direct link: one keeps writing, one wrote its request and waits for a reply
        using var writer = await Mesh.ConnectAsync("lan-1");
        using var waiter = await Mesh.ConnectAsync("lan-1");
        using (var echo = new CancellationTokenSource(Within))
            foreach (var s in new[] { writer, waiter })
                Assert.True(await ClientFlows.EchoOnceAsync(s, 4096, echo.Token), $"a new flow through lan-1's entry did not echo; warnings:\n{Mesh.Warnings()}");
        var marks = new[] { "lan-1", "lan-2" }.ToDictionary(g => g, g => Mesh[g].Mark());
        // what the gateways said of these flows: "flow to echo-2 from … failed: …" (logged just after the reset)
        string FlowLines() => string.Join("\n", marks.SelectMany(m => Mesh[m.Key].Output.Split('\n').Skip(m.Value).Where(l => l.Contains("flow to echo-2"))));
        var blocked = Stopwatch.StartNew();
        var lost = SeenAsync(l => l.Contains("link to lan-2 lost"), marks["lan-1"], blocked);
        Mesh.Block();
        output.WriteLine($"blocked at {DateTime.UtcNow:HH:mm:ss.fff}Z");
        Stopwatch unblocked;
        Task<string> up;
        try
        {
            var ends = await Task.WhenAll(ClientFlows.EndingAsync(writer, writing: true, blocked, Broken),
                ClientFlows.EndingAsync(waiter, writing: false, blocked, Broken));
            output.WriteLine(await lost);
            var apps = ends.Zip(["kept writing (1 KiB every 250 ms)", "waited for a reply"]).ToList();
            foreach (var (ending, app) in apps) output.WriteLine($"the app that {app}: {ending} after the block (bound {Broken.TotalSeconds:0}s)");
            foreach (var (ending, app) in apps)
                Assert.True(ending.Seen == ClientFlows.EndSeen.Error,
                    $"the app that {app} saw {ending} after the block, not an error or reset within {Broken.TotalSeconds:0}s; "
                    + $"the gateways' flows:\n{FlowLines()}\n{Mesh.Warnings()}");
        }
        finally
        {
            unblocked = Stopwatch.StartNew();
            up = SeenAsync(l => l.Contains("link to lan-2 up"), Mesh["lan-1"].Mark(), unblocked);
            Mesh.Unblock();
        }

        var (_, took) = await RoutedAsync(api, "lan-2", Back);
        output.WriteLine($"unblocked; /v1/routes/lan-1 says lan-2 via lan-2 again after {took.TotalSeconds:0.0}s; {await up}");
        output.WriteLine($"the gateways' flows meanwhile:\n{FlowLines()}");
        var (core, nat) = await FlowAsync("lan-1 127.0.0.1:8001 -> echo-2 (lan-2), direct again");
        AssertCoreSawNone(core, nat, "a flow after the direct link came back");
    }
}
