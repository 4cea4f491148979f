using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using Mesh.Transport.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Links.Mux;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;
using static Mesh.Transport.Tests.TestSockets;

namespace Mesh.Transport.Tests;

/// <summary>
/// Flows as streams of one multiplexed TLS connection (link mode mux), between two real registries over
/// loopback: site-a opens flows, site-b serves them.
/// </summary>
public sealed class MuxSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
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

    private async Task Linked()
    {
        _registryA.Add(await LinkHandshake.DialAsync(_a, "site-b", _server.LocalEndPoint, Wait, default, purpose: LinkPurpose.Mux));
        await Until(() => _registryB.Mux.Count("site-a") == 1, "site-b never saw the multiplexed link");
    }

    private static async Task Until(Func<bool> condition, string failure)
    {
        var until = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, failure);
            await Task.Delay(10);   // polling a condition with a deadline
        }
    }

    private readonly SemaphoreSlim _opening = new(1, 1);

    /// <summary>Opens one flow: site-a's stream after site-b accepted, and site-b's (one open at a time: site-b's server is one queue).</summary>
    private async Task<(LinkConnection AtA, LinkConnection AtB)> Open()
    {
        await _opening.WaitAsync();
        try { return await OpenOne(); }
        finally { _opening.Release(); }
    }

    private async Task<(LinkConnection AtA, LinkConnection AtB)> OpenOne()
    {
        var open = new Open(FrameCodec.OpenVersion, Guid.NewGuid(), "echo", "site-b", 8, "127.0.0.1:5555", "site-a");
        var claim = _registryA.ClaimStreamAsync("site-b", open, Wait, default);
        var (atB, seen) = await _peerFlowsAtB.Reader.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal(open, seen);
        await atB.WriteAsync(new Accept(open.FlowId));
        var (atA, result) = await claim;
        Assert.Equal(ClaimStatus.Accepted, result?.Status);
        return (atA!, atB);
    }

    [Fact]
    public async Task Fifty_flows_at_once_carry_their_bytes_intact_over_one_connection()
    {
        await Linked();
        var flows = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            var (atA, atB) = await Open();
            var (client, entryPlain) = await SocketPair();
            var (ownerPlain, service) = await SocketPair();
            var entry = LinkPump.RunAsync(new NetworkStream(entryPlain, ownsSocket: true), atA.Stream, atEntry: true, TimeSpan.Zero, default, "the client", "the link");
            var owner = LinkPump.RunAsync(new NetworkStream(ownerPlain, ownsSocket: true), atB.Stream, atEntry: false, TimeSpan.Zero, default, "the service", "the link");
            var request = RandomNumberGenerator.GetBytes(1 << 20);
            var echo = Task.Run(async () =>
            {
                await using var s = new NetworkStream(service, ownsSocket: true);
                await s.CopyToAsync(s);
                service.Shutdown(SocketShutdown.Send);
            });
            await using var c = new NetworkStream(client, ownsSocket: true);
            var reply = new MemoryStream();
            var receive = c.CopyToAsync(reply);
            await c.WriteAsync(request);
            client.Shutdown(SocketShutdown.Send);
            await receive.WaitAsync(Wait);
            await echo.WaitAsync(Wait);
            var (e, o) = (await entry.WaitAsync(Wait), await owner.WaitAsync(Wait));
            await _registryA.ReleaseAsync(atA, e.LinkReusable);
            await _registryB.ReleaseAsync(atB, o.LinkReusable);
            return (Same: request.AsSpan().SequenceEqual(reply.ToArray()), e.Result, o.Result);
        }));
        Assert.All(flows, f => Assert.Equal((true, PumpResult.Completed, PumpResult.Completed), f));
        Assert.Equal(1, _registryA.LiveCount("site-b"));   // one TCP connection carried them all
        await Until(() => _registryA.Mux.Count("site-b") == 1 && _registryB.Mux.Count("site-a") == 1, "the session did not outlive its flows");
    }

    [Fact]
    public async Task A_reader_that_stops_reading_stalls_its_own_sender_and_no_other_flow()
    {
        await Linked();
        var (slowA, slowB) = await Open();
        var (fastA, fastB) = await Open();
        var bulk = RandomNumberGenerator.GetBytes(8 << 20);
        var sending = slowA.Stream.WriteAsync(bulk).AsTask();   // site-b does not read this stream yet

        var echo = Task.Run(async () =>
        {
            var request = new byte[100];
            for (var i = 0; i < 200; i++)
            {
                await fastB.Stream.ReadExactlyAsync(request);
                await fastB.Stream.WriteAsync(request);
            }
        });
        var reply = new byte[100];
        for (var i = 0; i < 200; i++)
        {
            var request = RandomNumberGenerator.GetBytes(100);
            await fastA.Stream.WriteAsync(request).AsTask().WaitAsync(Wait);
            await fastA.Stream.ReadExactlyAsync(reply).AsTask().WaitAsync(Wait);
            Assert.Equal(request, reply);
        }
        await echo.WaitAsync(Wait);
        Assert.False(sending.IsCompleted, "the bulk sender should wait for its reader's window, not fill the gateway's memory");

        var received = new byte[bulk.Length];
        await slowB.Stream.ReadExactlyAsync(received).AsTask().WaitAsync(Wait);   // the reader catches up: the sender goes on
        await sending.WaitAsync(Wait);
        Assert.Equal(bulk, received);
    }

    [Fact]
    public async Task A_link_lost_in_the_middle_of_a_flow_fails_the_flow_on_both_sides()
    {
        await Linked();
        var (atA, atB) = await Open();
        var (client, entryPlain) = await SocketPair();
        var (ownerPlain, service) = await SocketPair();
        var entry = LinkPump.RunAsync(new NetworkStream(entryPlain, ownsSocket: true), atA.Stream, atEntry: true, TimeSpan.Zero, default, "the client", "the link to site-b");
        var owner = LinkPump.RunAsync(new NetworkStream(ownerPlain, ownsSocket: true), atB.Stream, atEntry: false, TimeSpan.Zero, default, "the service", "the link from site-a");
        await client.SendAsync(new byte[1000]);
        await service.ReceiveAsync(new byte[1000]);

        Assert.Equal(["site-b"], _registryA.Cut(_ => false));   // site-a's side of the connection is closed (as when site-b is revoked)

        var (e, o) = (await entry.WaitAsync(Wait), await owner.WaitAsync(Wait));
        Assert.Equal((PumpResult.Failed, PumpResult.Failed), (e.Result, o.Result));
        Assert.False(e.LinkReusable || o.LinkReusable);
        await Until(() => _registryB.Mux.Count("site-a") == 0, "site-b kept a session whose connection was closed");
    }

    [Fact]
    public async Task A_peer_that_sends_beyond_its_window_is_cut_off()
    {
        var raw = await RawPeerWithAFlowNobodyReads();
        var frame = new byte[MuxFrame.HeaderSize + MuxFrame.MaxData];

        MuxFrame.WriteHeader(frame, MuxKind.Data, 1, MuxFrame.MaxData);
        var cut = false;
        for (var i = 0; i <= MuxFrame.Window / MuxFrame.MaxData && !cut; i++)   // one frame more than the window holds
        {
            try { await raw.Stream.WriteAsync(frame); }
            catch (IOException) { cut = true; }
        }
        await CutOff(raw, "site-b kept a session whose peer overran its window");
    }

    [Fact]
    public async Task Two_hundred_flows_opened_at_the_same_moment_are_all_answered()
    {
        await Linked();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>   // site-b answers every flow as it comes, in whatever order
        {
            await foreach (var (link, open) in _peerFlowsAtB.Reader.ReadAllAsync(stop.Token))
                await link.WriteAsync(new Accept(open.FlowId));
        });
        var claims = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => _registryA.ClaimStreamAsync("site-b",
            new Open(FrameCodec.OpenVersion, Guid.NewGuid(), "echo", "site-b", 8, "127.0.0.1:5555", "site-a"), Wait, default))));
        // a stream numbered before another but queued after it was taken by site-b for one already over, and never answered
        Assert.All(claims, c => Assert.Equal(ClaimStatus.Accepted, c.Item2?.Status));
        await stop.CancelAsync();
    }

    [Fact]
    public async Task A_stream_is_forgotten_when_this_side_is_done_with_it_even_if_the_peer_never_closes_its_side()
    {
        await Linked();
        var (atA, _) = await Open();   // site-b never disposes its side
        await _registryA.ReleaseAsync(atA, reusable: true);
        Assert.Equal(0, _registryA.Mux.OpenStreams("site-b"));
    }

    [Fact]
    public async Task A_peer_sending_one_byte_frames_pays_for_each_frame_and_is_cut_off_past_its_window()
    {
        var raw = await RawPeerWithAFlowNobodyReads();
        var frame = new byte[MuxFrame.HeaderSize + FrameCodec.MaxFrame];

        // 10,000 bytes in 1-byte frames: far under 512 KiB of bytes, over it at 65 bytes a frame (each is an array at site-b)
        var tiny = new byte[(MuxFrame.HeaderSize + 1) * 10_000];
        for (var i = 0; i < 10_000; i++) MuxFrame.WriteHeader(tiny.AsSpan(i * (MuxFrame.HeaderSize + 1)), MuxKind.Data, 1, 1);
        try { await raw.Stream.WriteAsync(tiny); }
        catch (IOException) { }   // cut while sending
        await CutOff(raw, "site-b held 10,000 one-byte frames of a stream nobody reads");
    }

    [Fact]
    public async Task A_peer_that_gives_more_credit_than_it_was_sent_is_cut_off()
    {
        var raw = await RawPeerWithAFlowNobodyReads();
        var frame = new byte[MuxFrame.HeaderSize + FrameCodec.MaxFrame];

        MuxFrame.WriteHeader(frame, MuxKind.Window, 1, 4);   // site-b sent nothing on stream 1: no credit is owed
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(MuxFrame.HeaderSize), uint.MaxValue);
        await raw.Stream.WriteAsync(frame.AsMemory(0, MuxFrame.HeaderSize + 4));
        await CutOff(raw, "site-b kept a session whose peer lied about its window");
    }

    [Fact]
    public async Task An_unknown_frame_kind_closes_the_connection()
    {
        var raw = await LinkHandshake.DialAsync(_a, "site-b", _server.LocalEndPoint, Wait, default, purpose: LinkPurpose.Mux);
        await Until(() => _registryB.Mux.Count("site-a") == 1, "site-b never saw the multiplexed link");
        var frame = new byte[MuxFrame.HeaderSize];
        frame[0] = 0x7f;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), 1);
        await raw.Stream.WriteAsync(frame);
        await CutOff(raw, "site-b kept a session that spoke nonsense");
    }

    /// <summary>
    /// A peer speaking the mux protocol by hand: it dials, opens stream 1 with a real flow's Open, which site-b hands
    /// to its server (this test), which reads nothing of it.
    /// </summary>
    private async Task<LinkConnection> RawPeerWithAFlowNobodyReads()
    {
        var raw = await LinkHandshake.DialAsync(_a, "site-b", _server.LocalEndPoint, Wait, default, purpose: LinkPurpose.Mux);
        await Until(() => _registryB.Mux.Count("site-a") == 1, "site-b never saw the multiplexed link");
        var frame = new byte[MuxFrame.HeaderSize + FrameCodec.MaxFrame];
        var open = new Open(FrameCodec.OpenVersion, Guid.NewGuid(), "echo", "site-b", 8, "127.0.0.1:5555", "site-a");
        var n = FrameCodec.Encode(open, frame.AsSpan(MuxFrame.HeaderSize));
        MuxFrame.WriteHeader(frame, MuxKind.Data, 1, n);
        await raw.Stream.WriteAsync(frame.AsMemory(0, MuxFrame.HeaderSize + n));
        await _peerFlowsAtB.Reader.ReadAsync().AsTask().WaitAsync(Wait);
        return raw;
    }

    /// <summary>
    /// Waits until site-b drops the raw peer's session, keeping the peer audible meanwhile (a Ping every 100 ms):
    /// site-b closes a connection silent for 7 s, which must not pass for the cut under test.
    /// </summary>
    private async Task CutOff(LinkConnection raw, string failure)
    {
        var ping = new byte[MuxFrame.HeaderSize + 8];
        MuxFrame.WriteHeader(ping, MuxKind.Ping, 0, 8);
        var until = DateTime.UtcNow + Wait;
        while (_registryB.Mux.Count("site-a") != 0)
        {
            Assert.True(DateTime.UtcNow < until, failure);
            try { await raw.Stream.WriteAsync(ping); }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { }   // cut while pinging
            await Task.Delay(100);   // polling a condition with a deadline
        }
    }
}
