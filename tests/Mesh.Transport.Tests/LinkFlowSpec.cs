using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using Mesh.Transport.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;
using static Mesh.Transport.Tests.TestSockets;

namespace Mesh.Transport.Tests;

/// <summary>
/// Flows over a real TLS link between two pools, with real sockets on both plain sides: site-a is the
/// entry (a client connected to it), site-b the owner (connected to its service).
/// </summary>
public sealed class LinkFlowSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly Channel<(LinkConnection Link, Open Open)> _peerFlowsAtB = Channel.CreateUnbounded<(LinkConnection, Open)>();
    private readonly MeshIdentity _a = TestPki.Mesh.Identity("site-a");
    private readonly MeshIdentity _b = TestPki.Mesh.Identity("site-b");
    private LinkServer _server = null!;
    private LinkRegistry _registryA = null!, _registryB = null!;

    public Task InitializeAsync()
    {
        _registryA = new LinkRegistry((_, _) => throw new InvalidOperationException("site-a serves no flows here"));
        _registryB = new LinkRegistry((link, open) => _peerFlowsAtB.Writer.TryWrite((link, open)));
        _server = new LinkServer(new IPEndPoint(IPAddress.Loopback, 0));
        _server.Start(_b, _registryB, _ => { });
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _server.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>One flow: the entry's and the owner's link connection, each pumped against a socket pair.</summary>
    private sealed record Flow(LinkConnection AtA, LinkConnection AtB, Socket Client, Socket Service, Task<PumpOutcome> Entry, Task<PumpOutcome> Owner);

    private async Task<Flow> StartFlow(TimeSpan? entryIdleTimeout = null)
    {
        var open = new Open(FrameCodec.OpenVersion, Guid.NewGuid(), "echo", "site-b", 8, "127.0.0.1:5555", "site-a");
        var claim = _registryA.Pool("site-b").ClaimAsync(open, Wait, Wait, default);
        var (atB, _) = await _peerFlowsAtB.Reader.ReadAsync().AsTask().WaitAsync(Wait);
        await atB.WriteAsync(new Accept(open.FlowId));
        var (atA, result) = await claim;
        Assert.Equal(ClaimStatus.Accepted, result.Status);

        var (client, entryPlain) = await SocketPair();
        var (ownerPlain, service) = await SocketPair();
        var entry = LinkPump.RunAsync(new NetworkStream(entryPlain, ownsSocket: true), atA!.Stream, atEntry: true, entryIdleTimeout ?? TimeSpan.Zero, default,
            "the client", "the link to site-b");
        var owner = LinkPump.RunAsync(new NetworkStream(ownerPlain, ownsSocket: true), atB.Stream, atEntry: false, TimeSpan.Zero, default,
            "the service", "the link from site-a");
        return new Flow(atA, atB, client, service, entry, owner);
    }

    /// <summary>The service echoes everything and closes after the client's FIN; returns the client's received bytes.</summary>
    private static async Task<byte[]> EchoRoundTrip(Flow flow, byte[] request)
    {
        var echo = Task.Run(async () =>
        {
            await using var s = new NetworkStream(flow.Service, ownsSocket: true);
            await s.CopyToAsync(s);
            flow.Service.Shutdown(SocketShutdown.Send);
        });
        await using var client = new NetworkStream(flow.Client);
        var reply = new MemoryStream();
        var receive = client.CopyToAsync(reply);
        await client.WriteAsync(request);
        flow.Client.Shutdown(SocketShutdown.Send);
        await receive;
        await echo;
        return reply.ToArray();
    }

    private async Task Linked()
    {
        _registryA.Add(await LinkHandshake.DialAsync(_a, "site-b", _server.LocalEndPoint, Wait, default));
        var until = DateTime.UtcNow + Wait;
        while (_registryB.Pool("site-a").IdleCount < 1)
        {
            Assert.True(DateTime.UtcNow < until, "site-b never saw the link");
            await Task.Delay(10);   // polling a condition with a deadline
        }
    }

    [Fact]
    public async Task A_half_closed_client_gets_the_whole_reply_and_the_connection_then_carries_the_next_flow()
    {
        await Linked();
        var first = await StartFlow();
        var request = RandomNumberGenerator.GetBytes(3 << 20);
        Assert.Equal(request, await EchoRoundTrip(first, request));
        var (entry, owner) = (await first.Entry.WaitAsync(Wait), await first.Owner.WaitAsync(Wait));
        Assert.Equal((PumpResult.Completed, PumpResult.Completed), (entry.Result, owner.Result));
        Assert.Equal((3L << 20, 3L << 20), (entry.BytesUp, owner.BytesDown));
        Assert.True(entry.LinkReusable && owner.LinkReusable, $"entry: {entry}, owner: {owner}");

        _registryA.Pool(first.AtA.Peer).DialedIdleCap = 8;   // as the dialing side's LinkActor sets it
        await _registryA.ReleaseAsync(first.AtA, entry.LinkReusable);
        await _registryB.ReleaseAsync(first.AtB, owner.LinkReusable);
        var second = await StartFlow();
        Assert.Same(first.AtA, second.AtA);   // no new TCP or TLS handshake
        var another = RandomNumberGenerator.GetBytes(100_000);
        Assert.Equal(another, await EchoRoundTrip(second, another));
    }

    [Fact]
    public async Task A_link_cut_in_the_middle_of_a_flow_is_a_failure_not_a_clean_end()
    {
        await Linked();
        var flow = await StartFlow();
        await flow.Client.SendAsync(new byte[1000]);
        var atService = new byte[1000];
        await flow.Service.ReceiveAsync(atService);
        flow.AtB.Socket!.Close();   // the owner's end of the link vanishes: no TLS close_notify, no End frame

        var entry = await flow.Entry.WaitAsync(Wait);
        Assert.Equal(PumpResult.Failed, entry.Result);
        Assert.Contains("the link to site-b", entry.Error);   // "closed in the middle of the flow", or reset
        Assert.False(entry.LinkReusable);
    }

    [Fact]
    public async Task A_service_that_resets_makes_the_entry_fail_the_flow_with_the_reason_and_the_link_stays_usable()
    {
        await Linked();
        var flow = await StartFlow();
        await flow.Client.SendAsync(new byte[10]);
        await flow.Service.ReceiveAsync(new byte[10]);
        flow.Service.LingerState = new LingerOption(true, 0);
        flow.Service.Close();   // RST

        var (entry, owner) = (await flow.Entry.WaitAsync(Wait), await flow.Owner.WaitAsync(Wait));
        Assert.Equal(PumpResult.Failed, owner.Result);
        Assert.Contains("reading from the service", owner.Error);
        Assert.Equal(PumpResult.Failed, entry.Result);
        Assert.Contains("the link to site-b aborted the flow: the service broke off", entry.Error);
        Assert.True(entry.LinkReusable && owner.LinkReusable, $"entry: {entry}, owner: {owner}");
    }

    [Fact]
    public async Task An_idle_flow_is_ended_on_both_sides_with_the_reason_and_the_link_stays_usable()
    {
        await Linked();
        var flow = await StartFlow(entryIdleTimeout: TimeSpan.FromMilliseconds(300));
        await flow.Client.SendAsync(new byte[10]);
        await flow.Service.ReceiveAsync(new byte[10]);   // then nothing moves either way

        var (entry, owner) = (await flow.Entry.WaitAsync(Wait), await flow.Owner.WaitAsync(Wait));
        Assert.Equal(PumpResult.IdleTimeout, entry.Result);
        Assert.Equal(PumpResult.Failed, owner.Result);
        Assert.Contains("the link from site-a aborted the flow: no bytes either way for 300ms", owner.Error);
        Assert.True(entry.LinkReusable && owner.LinkReusable, $"entry: {entry}, owner: {owner}");
    }
}
