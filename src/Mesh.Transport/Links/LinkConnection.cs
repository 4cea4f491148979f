using System.Net.Sockets;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Transport.Links;

/// <summary>How a claim of an idle pooled connection ended.</summary>
public enum ClaimStatus { Accepted, Refused, NotIdle, Collision, Failed }

public sealed record ClaimResult(ClaimStatus Status, Refuse? Refusal = null, string? Error = null);

/// <summary>
/// One authenticated TLS connection to a peer gateway. While idle it sits in its peer's pool with one read
/// loop on it; either side may claim it for a flow by sending <see cref="Open"/>. If both claim at once,
/// the dialing side's claim wins and the accepting side serves it and retries its own flow elsewhere.
/// Once claimed, the read loop has stopped exactly at a frame boundary and the stream is the flow's.
/// </summary>
public sealed class LinkConnection : IAsyncDisposable
{
    private const int Idle = 0, ClaimedByUs = 1, ClaimedByPeer = 2, Dead = 3;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closed = new();
    private TaskCompletionSource<Frame?>? _claimReply;
    private int _state = Idle;
    private long _lastHeard = Environment.TickCount64;

    internal LinkConnection(Socket? socket, Stream stream, GatewayIdentity peer, bool dialed, LinkPurpose purpose = LinkPurpose.Pool)
    {
        Socket = socket;
        Stream = stream;
        PeerIdentity = peer;
        Dialed = dialed;
        Purpose = purpose;
    }

    /// <summary>The TCP connection, or null for a stream of a multiplexed link (<see cref="Mux.MuxStream"/>).</summary>
    public Socket? Socket { get; }
    /// <summary>The TLS connection, or a stream of a multiplexed link: the flow's frames are the same on both.</summary>
    public Stream Stream { get; }
    /// <summary>The peer gateway's name, as its certificate proves it.</summary>
    public string Peer => PeerIdentity.Name;
    /// <summary>What the peer's certificate proves: name, role, fingerprint.</summary>
    public GatewayIdentity PeerIdentity { get; }
    public LinkPurpose Purpose { get; }
    /// <summary>Closed (by either side, or cut because its peer is no longer admitted).</summary>
    public bool IsClosed => _closed.IsCancellationRequested;
    /// <summary>Raised once when the connection is disposed, whatever it was doing (the registry forgets it).</summary>
    internal event Action<LinkConnection>? Disposed;
    /// <summary>We dialed it: we ping it while idle and replace it once it is claimed or lost.</summary>
    public bool Dialed { get; }
    public bool IsIdle => Volatile.Read(ref _state) == Idle;
    /// <summary>It belongs to its peer's pool (its events are wired there): it may go back after a flow.</summary>
    internal bool Pooled { get; set; }
    public long MillisSinceHeard => Environment.TickCount64 - Interlocked.Read(ref _lastHeard);

    /// <summary>The peer claimed this connection for a flow (raised once; the handler owns the stream).</summary>
    public event Action<LinkConnection, Open>? ClaimedByPeerFlow;
    /// <summary>A ping this side sent was answered after this many milliseconds.</summary>
    internal event Action<double>? RoundTrip;
    /// <summary>The connection died while idle (raised once).</summary>
    public event Action<LinkConnection, string>? Lost;

    internal void StartIdleLoop() => _ = IdleLoopAsync();

    private async Task IdleLoopAsync()
    {
        var scratch = new byte[FrameCodec.MaxFrame];
        string reason;
        try
        {
            while (true)
            {
                var frame = await FrameIO.ReadAsync(Stream, scratch, _closed.Token);
                Interlocked.Exchange(ref _lastHeard, Environment.TickCount64);
                switch (frame)
                {
                    case null:
                        reason = "closed by the peer";
                        goto dead;
                    case Ping p:
                        await WriteIfIdleAsync(new Pong(p.Nonce));
                        break;
                    case Pong pong:
                        var rtt = System.Diagnostics.Stopwatch.GetElapsedTime((long)pong.Nonce).TotalMilliseconds;
                        if (rtt is >= 0 and < 60_000) RoundTrip?.Invoke(rtt);   // our pings carry their send time
                        break;
                    case Open open when Volatile.Read(ref _state) == ClaimedByUs:
                        if (Dialed) break;                          // our claim wins; the peer yields and serves it
                        Volatile.Write(ref _state, ClaimedByPeer);  // we yield: serve the peer's flow, retry ours elsewhere
                        _claimReply!.TrySetResult(null);
                        ClaimedByPeerFlow?.Invoke(this, open);
                        return;
                    case Open open:
                        if (Interlocked.CompareExchange(ref _state, ClaimedByPeer, Idle) != Idle) break;
                        ClaimedByPeerFlow?.Invoke(this, open);
                        return;
                    case Accept or Refuse when Volatile.Read(ref _state) == ClaimedByUs:
                        _claimReply!.TrySetResult(frame);
                        return;
                    default:
                        reason = $"unexpected {frame.Type} frame on an idle connection";
                        goto dead;
                }
            }
        }
        catch (Exception e) when (e is IOException or ProtocolException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            reason = e is ProtocolException ? e.Message : "connection lost";
        }
        dead:
        var was = Interlocked.Exchange(ref _state, Dead);
        _claimReply?.TrySetResult(null);
        if (was == Idle) Lost?.Invoke(this, reason);
        await DisposeAsync();
    }

    /// <summary>Claims this connection for a flow: sends <paramref name="open"/> and waits for the answer.</summary>
    public async Task<ClaimResult> ClaimAsync(Open open, TimeSpan timeout, CancellationToken ct)
    {
        var reply = new TaskCompletionSource<Frame?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _claimReply = reply;
        if (Interlocked.CompareExchange(ref _state, ClaimedByUs, Idle) != Idle) return new(ClaimStatus.NotIdle);
        try
        {
            await WriteAsync(open);
            var frame = await reply.Task.WaitAsync(timeout, ct);
            return frame switch
            {
                Accept => new(ClaimStatus.Accepted),
                Refuse r => new(ClaimStatus.Refused, r),
                _ when Volatile.Read(ref _state) == ClaimedByPeer => new(ClaimStatus.Collision),
                _ => new(ClaimStatus.Failed, Error: "the link closed before the peer answered"),
            };
        }
        catch (Exception e) when (e is IOException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            await DisposeAsync();
            return new(ClaimStatus.Failed, Error: e is TimeoutException ? $"no answer from {Peer} within {timeout.TotalSeconds:0.#}s" : e.Message);
        }
    }

    /// <summary>
    /// After a flow that ended cleanly on both sides (each direction closed by End or Abort, or a Refuse),
    /// both sides stand at a frame boundary: the connection becomes idle again and can carry another flow.
    /// The caller restarts the idle loop.
    /// </summary>
    internal bool TryReturnToIdle()
    {
        var state = Volatile.Read(ref _state);
        if (state is not (ClaimedByUs or ClaimedByPeer) || _closed.IsCancellationRequested) return false;
        if (Interlocked.CompareExchange(ref _state, Idle, state) != state) return false;
        _claimReply = null;
        Interlocked.Exchange(ref _lastHeard, Environment.TickCount64);
        return true;
    }

    /// <summary>
    /// Closes the connection only if it is still idle, atomically: a sweep or a pool shutdown must never
    /// close a connection that either side has just claimed for a flow (that cut flows short under load).
    /// </summary>
    internal async Task CloseIfIdleAsync(string reason)
    {
        if (Interlocked.CompareExchange(ref _state, Dead, Idle) != Idle) return;
        Lost?.Invoke(this, reason);
        await DisposeAsync();
    }

    /// <summary>Sends a ping if still idle (the pool calls this on connections it dialed).</summary>
    internal async Task PingAsync()
    {
        try { await WriteIfIdleAsync(new Ping((ulong)System.Diagnostics.Stopwatch.GetTimestamp())); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException) { await DisposeAsync(); }
    }

    /// <summary>
    /// Pings and pongs only while idle, checked under the write lock: checked outside it, one could be
    /// written after the Open or Accept of a claim and land inside the flow's bytes.
    /// </summary>
    private async Task WriteIfIdleAsync(Frame frame)
    {
        await _writeLock.WaitAsync(_closed.Token);
        try { if (IsIdle) await FrameIO.WriteAsync(Stream, frame, _closed.Token); }
        finally { _writeLock.Release(); }
    }

    /// <summary>Writes a frame; control writes never interleave (ping timer vs. claim).</summary>
    public async Task WriteAsync(Frame frame)
    {
        await _writeLock.WaitAsync(_closed.Token);
        try { await FrameIO.WriteAsync(Stream, frame, _closed.Token); }
        finally { _writeLock.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (_closed.IsCancellationRequested) return;
        try { _closed.Cancel(); } catch (ObjectDisposedException) { return; }   // the idle loop, if running, reports Lost
        try { Socket?.Close(); } catch (ObjectDisposedException) { }
        await Stream.DisposeAsync();
        Disposed?.Invoke(this);
    }
}
