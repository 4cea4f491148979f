using System.Net;
using Mesh.Tests.Shared;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Edges that accept links (issue 20; the LAN case with a blocked link is the Lan suite): two edges with
/// link ports, started with --edge, link with each other directly, flows between them skip the core
/// gateway, and neither becomes a relay for others. On loopback, with real processes.
/// </summary>
public sealed class EdgeShortcutSpec : IAsyncLifetime
{
    private readonly SoloCore _core = new();
    private readonly EchoServer _echo1 = new(), _echo2 = new();
    private readonly int _lan1Link = FreePorts.Next(), _lan2Link = FreePorts.Next();
    private readonly int _lan1ToEcho2 = FreePorts.Next(), _lan2ToEcho1 = FreePorts.Next(), _lan1ToCore = FreePorts.Next();
    private readonly int _coreEcho = FreePorts.Next();
    private NodeProcess _lan1 = null!, _lan2 = null!;
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        await _core.StartAsync(_core.Config($$"""
            [gateways.lan-1]
            role = "edge"
            links = ["127.0.0.1:{{_lan1Link}}"]
            [gateways.lan-2]
            role = "edge"
            links = ["127.0.0.1:{{_lan2Link}}"]
            [services.echo-1]
            gateway = "lan-1"
            target = "127.0.0.1:{{_echo1.Port}}"
            [services.echo-2]
            gateway = "lan-2"
            target = "127.0.0.1:{{_echo2.Port}}"
            [services.echo-core]
            gateway = "core1"
            target = "127.0.0.1:{{_echo1.Port}}"
            allow = ["lan-1", "lan-2"]
            [[entries]]
            gateway = "lan-1"
            listen = "127.0.0.1:{{_lan1ToEcho2}}"
            service = "echo-2"
            [[entries]]
            gateway = "lan-1"
            listen = "127.0.0.1:{{_lan1ToCore}}"
            service = "echo-core"
            [[entries]]
            gateway = "lan-2"
            listen = "127.0.0.1:{{_lan2ToEcho1}}"
            service = "echo-1"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{_coreEcho}}"
            service = "echo-2"
            """));
        _lan1 = await StartEdge("lan-1", _lan1Link);
        _lan2 = await StartEdge("lan-2", _lan2Link);
        _api = TestMesh.Http(_core.Api);
        await Task.WhenAll(
            _lan1.WaitForLinkUpAsync("lan-2", TestMesh.Ready),
            _lan2.WaitForLinkUpAsync("lan-1", TestMesh.Ready),
            _lan1.WaitForLinkUpAsync("core1", TestMesh.Ready));
    }

    private async Task<NodeProcess> StartEdge(string name, int link) => _core.Start(["--name", name, "--listen", $"127.0.0.1:{link}", "--edge",
        "--join", $"127.0.0.1:{_core.Link}", "--metrics", $"127.0.0.1:{FreePorts.Next()}", .. await _core.Certificates.FlagsFor(name)]);

    public async Task DisposeAsync()
    {
        _api?.Dispose();
        await _core.DisposeAsync();
        await _echo1.DisposeAsync();
        await _echo2.DisposeAsync();
    }

    [Fact]
    public async Task Two_edges_that_accept_links_carry_their_flows_directly_and_the_core_relays_none_of_them()
    {
        Assert.Contains(_lan1.Output.Split('\n'), l => l.Contains("edge gateway, link ports 127.0.0.1:") && l.Contains("other edges may link with it directly"));
        var links = await _api.PollJsonAsync("/v1/links", b => b.EnumerateArray().Any(IsShortcut), TestMesh.Ready);
        Assert.True(links.EnumerateArray().First(IsShortcut).GetProperty("cost").GetDouble() >= 1);
        var routes = await _api.PollJsonAsync("/v1/routes/lan-1", b => ViaOf(b, "lan-2") == "lan-2", TimeSpan.FromSeconds(30));
        Assert.Equal("core1", ViaOf(routes, "core1"));
        var gateways = await _api.GetJsonAsync("/v1/gateways");
        var lan1 = gateways.EnumerateArray().First(g => g.GetProperty("name").GetString() == "lan-1");
        Assert.False(lan1.GetProperty("core").GetBoolean());   // it accepts links, and stays an edge

        foreach (var (entry, what) in new[] { (_lan1ToEcho2, "lan-1 -> lan-2"), (_lan2ToEcho1, "lan-2 -> lan-1"), (_lan1ToCore, "lan-1 -> core1") })
        {
            var (sent, received, bytes) = await ClientFlows.RoundTripAsync(await ClientFlows.ConnectAsync(entry), 4 << 20);
            Assert.True(bytes == 4 << 20 && sent == received, $"{what}: {bytes} bytes came back; warnings:\n{Warnings()}");
        }
        var metrics = await _api.GetStringAsync("/metrics");
        // nothing crossed core1 on its way between the two
        Assert.DoesNotContain(metrics.Split('\n'), l => l.StartsWith("mesh_relay_flows_total{") && !l.EndsWith(" 0"));

        // core1's own entry reaches lan-2 directly (lan-2 dialed it); lan-2 is no relay for anyone
        var (s, r, n) = await ClientFlows.RoundTripAsync(await ClientFlows.ConnectAsync(_coreEcho), 1 << 20);
        Assert.True(n == 1 << 20 && s == r, $"core1 -> lan-2: {n} bytes came back");
    }

    [Fact]
    public async Task An_edge_that_accepts_links_relays_nothing_for_another_edge()
    {
        // lan-2's key asks lan-1 to carry a flow on to core1's service: only core gateways relay
        var flags = await _core.Certificates.FlagsFor("lan-2");
        var identity = MeshIdentity.Load(flags[1], flags[3], flags[5]);
        await using var link = await LinkHandshake.DialAsync(identity, "lan-1", new IPEndPoint(IPAddress.Loopback, _lan1Link), TimeSpan.FromSeconds(5), default);
        var open = new Open(FrameCodec.OpenVersion, Guid.NewGuid(), "echo-core", "core1", 8, "127.0.0.1:1", "lan-2");
        var result = await new LinkRegistry((_, _) => { }).ClaimFreshAsync(link, open, TimeSpan.FromSeconds(10), default);
        Assert.True(result.Status == ClaimStatus.Refused, $"{result.Status}: {result.Error}");
        Assert.Equal(RefuseReason.NotAllowed, result.Refusal!.Reason);
        Assert.Contains("lan-1 is an edge gateway: only core gateways relay", result.Refusal.Message);
    }

    [Fact]
    public async Task An_edge_that_accepts_links_carries_no_control_channel_and_says_who_tried()
    {
        var mark = _lan1.Mark();
        var flags = await _core.Certificates.FlagsFor("lan-2");
        var identity = MeshIdentity.Load(flags[1], flags[3], flags[5]);
        await using var control = await LinkHandshake.DialAsync(identity, "lan-1", new IPEndPoint(IPAddress.Loopback, _lan1Link), TimeSpan.FromSeconds(5),
            default, purpose: LinkPurpose.Control);
        await _lan1.WaitForLineAsync(l => l.Contains("lan-2") && l.Contains("control channel"), TimeSpan.FromSeconds(10), mark);   // says who tried
    }

    private static bool IsShortcut(System.Text.Json.JsonElement l) =>
        new[] { l.GetProperty("a").GetString(), l.GetProperty("b").GetString() }.Order().SequenceEqual(["lan-1", "lan-2"]);

    private static string? ViaOf(System.Text.Json.JsonElement table, string destination) =>
        table.GetProperty("nextHops").EnumerateArray().FirstOrDefault(h => h.GetProperty("destination").GetString() == destination) is { ValueKind: System.Text.Json.JsonValueKind.Object } h
            ? h.GetProperty("via").GetString() : null;

    private string Warnings() => string.Join("\n", new[] { _core.Node, _lan1, _lan2 }.SelectMany(n => n.Output.Split('\n'))
        .Where(l => l.Contains("WARNING") || l.Contains("ERROR")).TakeLast(40));
}
