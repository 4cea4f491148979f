using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Transport.Tests;

/// <summary>Links over real loopback sockets and real TLS: who gets in, and how flows claim connections.</summary>
public sealed class LinkSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly List<string> _serverWarnings = [];
    private readonly TaskCompletionSource<(LinkConnection, Open)> _peerFlowAtB = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<(LinkConnection, Open)> _peerFlowAtA = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LinkServer _server = null!;
    private LinkRegistry _registryB = null!;
    private LinkRegistry _registryA = null!;
    private readonly MeshIdentity _a = TestPki.Mesh.Identity("site-a");
    private readonly MeshIdentity _b = TestPki.Mesh.Identity("site-b");

    public Task InitializeAsync()
    {
        _registryB = new LinkRegistry((link, open) => _peerFlowAtB.TrySetResult((link, open)));
        _registryA = new LinkRegistry((link, open) => _peerFlowAtA.TrySetResult((link, open)));
        _server = new LinkServer(new IPEndPoint(IPAddress.Loopback, 0));
        _server.Start(_b, _registryB, w => { lock (_serverWarnings) _serverWarnings.Add(w); });
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _server.Dispose();
        return Task.CompletedTask;
    }

    private Task<LinkConnection> Dial(MeshIdentity who, string peer = "site-b") =>
        LinkHandshake.DialAsync(who, peer, _server.LocalEndPoint, TimeSpan.FromSeconds(5), default);

    private static Open OpenFor(string service) => new(FrameCodec.OpenVersion, Guid.NewGuid(), service, "site-b", 8, "127.0.0.1:5555", "site-a");

    private async Task AwaitIdleAtB(int count)
    {
        var until = DateTime.UtcNow + Wait;
        while (_registryB.Pool("site-a").IdleCount < count)
        {
            Assert.True(DateTime.UtcNow < until, $"site-b has {_registryB.Pool("site-a").IdleCount} idle links from site-a, expected {count}");
            await Task.Yield();
            await Task.Delay(10);   // polling a condition with a deadline, not waiting for time to pass
        }
    }

    private string Warnings() { lock (_serverWarnings) return string.Join("\n", _serverWarnings); }

    private async Task<string> AwaitWarning(string part)
    {
        var until = DateTime.UtcNow + Wait;
        while (!Warnings().Contains(part))
        {
            Assert.True(DateTime.UtcNow < until, $"no warning containing '{part}'; got:\n{Warnings()}");
            await Task.Delay(10);
        }
        return Warnings();
    }

    [Fact]
    public async Task A_dialed_link_is_claimed_by_the_dialer_and_then_carries_bytes_both_ways()
    {
        _registryA.Add(await Dial(_a));
        await AwaitIdleAtB(1);

        var open = OpenFor("echo");
        var claim = _registryA.Pool("site-b").ClaimAsync(open, Wait, Wait, default);
        var (atB, received) = await _peerFlowAtB.Task.WaitAsync(Wait);
        Assert.Equal(open, received);
        await atB.WriteAsync(new Accept(open.FlowId));
        var (atA, result) = await claim;
        Assert.Equal(ClaimStatus.Accepted, result.Status);

        await atA!.Stream.WriteAsync("ping from a"u8.ToArray());
        var buffer = new byte[64];
        var n = await atB.Stream.ReadAtLeastAsync(buffer, 11);
        Assert.Equal("ping from a", Encoding.ASCII.GetString(buffer, 0, n));
        await atB.Stream.WriteAsync("pong from b"u8.ToArray());
        n = await atA.Stream.ReadAtLeastAsync(buffer, 11);
        Assert.Equal("pong from b", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task The_accepting_side_can_claim_a_connection_the_other_side_dialed_and_the_dialer_is_told_to_replace_it()
    {
        var replaced = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _registryA.Pool("site-b").DialedConnectionGone += (_, lostBecause) => replaced.TrySetResult(lostBecause);
        _registryA.Add(await Dial(_a));
        await AwaitIdleAtB(1);

        var open = OpenFor("db") with { Destination = "site-a" };
        var claim = _registryB.Pool("site-a").ClaimAsync(open, Wait, Wait, default);   // b (behind no NAT) uses a's connection
        var (atA, received) = await _peerFlowAtA.Task.WaitAsync(Wait);
        Assert.Equal(open, received);
        Assert.Null(await replaced.Task.WaitAsync(Wait));   // claimed for a flow, not lost
        await atA.WriteAsync(new Refuse(open.FlowId, RefuseReason.ServiceDown, "db is down"));
        var (_, result) = await claim;
        Assert.Equal(ClaimStatus.Refused, result.Status);
        Assert.Equal((RefuseReason.ServiceDown, "db is down"), (result.Refusal!.Reason, result.Refusal.Message));
    }

    [Fact]
    public async Task A_claim_with_no_idle_link_gives_up_after_its_wait_with_a_reason()
    {
        var (link, result) = await _registryA.Pool("site-b").ClaimAsync(OpenFor("echo"), TimeSpan.FromMilliseconds(50), Wait, default);
        Assert.Null(link);
        Assert.Equal(ClaimStatus.Failed, result.Status);
        Assert.Contains("no idle link to site-b", result.Error);
    }

    [Fact]
    public async Task A_gateway_with_a_certificate_from_another_ca_cannot_link_and_the_server_carries_on()
    {
        var rogue = TestPki.Rogue.Identity("site-a", trust: TestPki.Mesh);
        var e = await Assert.ThrowsAsync<LinkException>(() => Dial(rogue));
        Assert.Contains("rejected this gateway's certificate", e.Message);
        await AwaitWarning("TLS handshake failed");
        _registryA.Add(await Dial(_a));   // a genuine gateway still gets in
        await AwaitIdleAtB(1);
    }

    [Fact]
    public async Task A_dialer_refuses_a_peer_whose_certificate_names_another_gateway()
    {
        var e = await Assert.ThrowsAsync<LinkException>(() => Dial(_a, peer: "site-c"));   // b answers, but we meant c
        Assert.Contains("named 'site-c'", e.Message);
    }

    [Fact]
    public async Task A_peer_whose_hello_claims_another_name_than_its_certificate_is_rejected()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_server.LocalEndPoint);
        await using var tls = new SslStream(new NetworkStream(socket));
        await tls.AuthenticateAsClientAsync(_a.ClientOptions("site-b"));
        await FrameIO.WriteAsync(tls, new Hello(FrameCodec.ProtocolVersion, "site-z"), default);
        Assert.Null(await ReadOrNull(tls));
        await AwaitWarning("says it is 'site-z' but its certificate names 'site-a'");
        Assert.Equal(0, _registryB.Pool("site-z").IdleCount);
    }

    [Fact]
    public async Task A_peer_that_presents_no_certificate_is_rejected()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_server.LocalEndPoint);
        await using var tls = new SslStream(new NetworkStream(socket), false, (_, _, _, _) => true);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "site-b", EnabledSslProtocols = SslProtocols.Tls13 });
            await FrameIO.WriteAsync(tls, new Hello(FrameCodec.ProtocolVersion, "site-a"), default);
            Assert.Null(await ReadOrNull(tls));
        }
        catch (Exception e) when (e is AuthenticationException or IOException) { }   // TLS 1.3 may fail either way
        await AwaitWarning("TLS handshake failed");
    }

    [Fact]
    public async Task Plaintext_on_the_link_port_is_rejected_and_nothing_else_is_disturbed()
    {
        _registryA.Add(await Dial(_a));
        await AwaitIdleAtB(1);
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(_server.LocalEndPoint);
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            var buffer = new byte[256];
            try { while (await socket.ReceiveAsync(buffer) > 0) { } } catch (SocketException) { }   // the server hangs up
        }
        await AwaitWarning("rejected");
        Assert.Equal(1, _registryB.Pool("site-a").IdleCount);   // the existing link is untouched
    }

    [Fact]
    public async Task A_silent_idle_link_is_closed_by_the_sweep_and_its_dialer_told_to_replace_it()
    {
        var gone = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _registryA.Pool("site-b").DialedConnectionGone += (_, lostBecause) => gone.TrySetResult(lostBecause);
        _registryA.Add(await Dial(_a));
        await AwaitIdleAtB(1);
        _registryA.Sweep(deadAfter: TimeSpan.Zero);   // as if nothing had been heard for too long
        Assert.Equal("silent too long", await gone.Task.WaitAsync(Wait));
        Assert.Equal(0, _registryA.Pool("site-b").IdleCount);
    }

    private static async Task<Frame?> ReadOrNull(Stream s)
    {
        try { return await FrameIO.ReadAsync(s, new byte[FrameCodec.MaxFrame], default); }
        catch (Exception e) when (e is IOException or ProtocolException) { return null; }
    }
}
