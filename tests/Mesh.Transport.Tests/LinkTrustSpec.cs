using System.Net;
using System.Net.Sockets;
using System.Text;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Transport.Tests;

/// <summary>
/// Who a link port admits (docs/security.md): only gateways the served map declares, never a revoked
/// certificate, and a peer that stops being admitted loses every connection it holds. Real TLS, real sockets.
/// </summary>
public sealed class LinkTrustSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly List<string> _warnings = [];
    private readonly List<string> _failures = [];
    private readonly MeshTrust _trust = new();
    private readonly LinkServer _server = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly TaskCompletionSource<LinkConnection> _control = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LinkRegistry _registry = null!;
    private readonly MeshIdentity _core = TestPki.Mesh.Identity("core1", role: GatewayRole.Core);
    private readonly MeshIdentity _edge = TestPki.Mesh.Identity("site-a");

    public Task InitializeAsync()
    {
        _trust.Update([("core1", true), ("site-a", false)], []);
        _registry = new LinkRegistry((_, _) => { });
        _server.Start(_core, _registry, _trust, new LinkServerHooks(c => _control.TrySetResult(c),
            w => { lock (_warnings) _warnings.Add(w); }, f => { lock (_failures) _failures.Add(f); }));
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _server.Dispose();
        return Task.CompletedTask;
    }

    private Task<LinkConnection> Dial(MeshIdentity who, LinkPurpose purpose = LinkPurpose.Pool) =>
        LinkHandshake.DialAsync(who, "core1", _server.LocalEndPoint, TimeSpan.FromSeconds(5), default, purpose: purpose);

    private async Task Eventually(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, what);
            await Task.Delay(10);   // polling a condition with a deadline
        }
    }

    private string Warnings() { lock (_warnings) return string.Join("\n", _warnings); }

    [Fact]
    public async Task A_certificate_of_the_mesh_ca_for_an_undeclared_gateway_is_refused_and_told_why()
    {
        var stranger = TestPki.Mesh.Identity("rogue");
        var e = await Assert.ThrowsAsync<LinkException>(() => Dial(stranger));
        Assert.Contains("core1 at", e.Message);
        Assert.Contains("refused this gateway: 'rogue' is not a gateway of the mesh config", e.Message);
        Assert.Equal(AdmissionRefusal.NotDeclared, e.Refusal);
        await Eventually(() => Warnings().Contains("link from rogue"), $"no warning at the server:\n{Warnings()}");
        lock (_failures) Assert.Contains("notdeclared", _failures);
        Assert.Equal(0, _registry.LiveCount("rogue"));
    }

    [Fact]
    public async Task A_revoked_certificate_is_refused_though_its_name_is_declared()
    {
        var revoked = TestPki.Mesh.Identity("site-a");
        _trust.Update([("core1", true), ("site-a", false)], [revoked.Identity.Fingerprint]);
        var e = await Assert.ThrowsAsync<LinkException>(() => Dial(revoked));
        Assert.Contains("is revoked", e.Message);
        _registry.Add(await Dial(_edge));   // site-a's other (current) certificate still gets in
    }

    [Fact]
    public async Task A_gateway_removed_from_the_map_loses_every_connection_idle_or_in_a_flow()
    {
        _registry.Add(await Dial(_edge));
        var claimed = await Dial(_edge);   // as if carrying a flow: not in the pool, but live
        await Eventually(() => _registry.LiveCount("site-a") >= 2, "site-a's connections did not arrive");

        _trust.Update([("core1", true)], []);
        var cut = _registry.Cut(peer => _trust.AdmitLink(peer).IsAdmitted);
        Assert.Equal(["site-a"], cut);
        await Eventually(() => _registry.LiveCount("site-a") == 0, "site-a still holds connections");
        var buffer = new byte[16];
        var read = await Task.Run(async () =>
        {
            try { return await claimed.Stream.ReadAsync(buffer); } catch (IOException) { return 0; }
        }).WaitAsync(Wait);
        Assert.Equal(0, read);   // the dialer sees its connection closed
        await Assert.ThrowsAsync<LinkException>(() => Dial(_edge));   // and cannot come back
    }

    [Fact]
    public async Task An_edge_dialing_a_join_address_without_a_name_accepts_only_a_core_certificate()
    {
        using var edgeServer = new LinkServer(new IPEndPoint(IPAddress.Loopback, 0));
        edgeServer.Start(TestPki.Mesh.Identity("site-b"), new LinkRegistry((_, _) => { }), _ => { });
        var e = await Assert.ThrowsAsync<LinkException>(() =>
            LinkHandshake.DialAsync(_edge, null, edgeServer.LocalEndPoint, TimeSpan.FromSeconds(5), default, purpose: LinkPurpose.Control));
        Assert.Contains("edge role", e.Message);
        await using var ok = await LinkHandshake.DialAsync(_edge, null, _server.LocalEndPoint, TimeSpan.FromSeconds(5), default, purpose: LinkPurpose.Control);
        Assert.Equal("core1", ok.Peer);
    }

    [Fact]
    public async Task A_control_channel_carries_whole_messages_both_ways_large_ones_in_pieces()
    {
        var atEdge = new ControlChannel(await Dial(_edge, LinkPurpose.Control));
        var atCore = new ControlChannel(await _control.Task.WaitAsync(Wait));
        Assert.Equal("site-a", atCore.Peer);   // the name its certificate proved
        var receivedAtCore = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var receivedAtEdge = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        atCore.Start(m => { receivedAtCore.TrySetResult(m.ToArray()); return Task.CompletedTask; });
        atEdge.Start(m => { receivedAtEdge.TrySetResult(m.ToArray()); return Task.CompletedTask; });

        var large = new byte[300_000];   // a route table of a large mesh: five frames
        Random.Shared.NextBytes(large);
        Assert.True(await atEdge.SendAsync("give me my table"u8.ToArray()));
        Assert.Equal("give me my table", Encoding.ASCII.GetString(await receivedAtCore.Task.WaitAsync(Wait)));
        Assert.True(await atCore.SendAsync(large));
        Assert.Equal(large, await receivedAtEdge.Task.WaitAsync(Wait));

        await atEdge.KeepAliveAsync(ping: true);   // the core answers pings: the channel stays alive
        await atEdge.DisposeAsync();
        Assert.Equal("closed by the peer", await atCore.Ended.WaitAsync(Wait));
    }

    [Fact]
    public async Task A_thousand_silent_connections_do_not_delay_a_real_gateway_and_are_logged_in_a_few_lines()
    {
        var silent = new List<Socket>();
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(_server.LocalEndPoint);
                silent.Add(s);
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _registry.Add(await Dial(_edge));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"a real link took {clock.Elapsed} among 1,000 silent connections");
            await Eventually(() => { lock (_failures) return _failures.Count(f => f == "silent") == 1000; }, "the silent connections were not all closed");
            Assert.True(Warnings().Split('\n').Length <= 3, $"logged:\n{Warnings()}");
        }
        finally { foreach (var s in silent) s.Dispose(); }
    }
}
