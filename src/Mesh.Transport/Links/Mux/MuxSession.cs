using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Transport.Links.Mux;

/// <summary>
/// One multiplexed link connection: many streams (one per flow) over one TLS connection, each with its own
/// credit window. Either side opens streams (the dialer odd ids, the acceptor even ones, never reused); a
/// stream is opened by its first Data frame. One loop reads and hands each payload to its stream without
/// ever waiting for it (the window bounds what a stream may hold, and a peer that overruns it is cut); frames
/// to send are queued and written by whoever finds the writer free, the frames queued meanwhile in one TLS
/// write, so that a few syscalls serve many flows. The dialer pings every <see cref="Liveness.PingEvery"/>; either side closes the connection after
/// <see cref="Liveness.DeadAfter"/> of silence, and every stream on it fails.
/// </summary>
public sealed class MuxSession : IAsyncDisposable
{
    /// <summary>
    /// Streams the peer may have open at once on one session; one more is reset at once. With the window, what a
    /// peer can make this side hold: 4,096 × 512 KiB on a session whose flows all stopped reading.
    /// </summary>
    public const int MaxPeerStreams = 4_096;
    /// <summary>Room for the largest frame; a batch is written once it holds 64 KiB or the queue is empty.</summary>
    private const int BatchSize = 128 * 1024, BatchFull = 64 * 1024;

    private readonly LinkConnection _transport;
    private readonly ConcurrentDictionary<uint, MuxStream> _streams = new();
    /// <summary>Frames waiting for the writer; Data is bounded by the streams' windows, control frames are few.</summary>
    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> _out = new();
    /// <summary>1 while someone drains <see cref="_out"/> to the connection.</summary>
    private int _writing;
    /// <summary>
    /// Bytes queued and not yet written. Above <see cref="MaxQueued"/> flows wait before they queue more (the
    /// windows alone would let 2,000 flows queue 1 GiB towards a slow connection), and pings go unanswered.
    /// </summary>
    private long _queued;
    private const long MaxQueued = 4 << 20;
    private TaskCompletionSource? _room;
    private readonly object _roomGate = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly Timer _liveness;
    private long _nextId, _lastHeard = Environment.TickCount64;
    private readonly object _openGate = new();
    /// <summary>Every id this side may give was given: no new streams; closed once its last stream is over.</summary>
    private volatile bool _exhausted;
    private uint _highestPeerId;
    private int _peerStreams;
    private string? _closeReason;

    /// <param name="transport">an authenticated connection whose Hello said purpose = mux</param>
    public MuxSession(LinkConnection transport)
    {
        _transport = transport;
        _nextId = transport.Dialed ? 1 : 2;
        _liveness = new Timer(_ => CheckLiveness(), null, Liveness.PingEvery, Liveness.PingEvery);
    }

    public string Peer => _transport.Peer;
    public GatewayIdentity PeerIdentity => _transport.PeerIdentity;
    /// <summary>This side dialed the connection (and keeps it: redials when it is lost).</summary>
    public bool Dialed => _transport.Dialed;
    public bool IsClosed => _closed.IsCancellationRequested;
    /// <summary>Streams open now, either way: flows are spread over a peer's sessions by this count.</summary>
    public int OpenStreams => _streams.Count;
    /// <summary>New streams may be opened on it (it is up and has ids left).</summary>
    public bool CanOpen => !IsClosed && !_exhausted;

    /// <summary>The peer opened a stream (its first bytes are the flow's Open frame).</summary>
    public event Action<MuxSession, MuxStream>? StreamOpenedByPeer;
    /// <summary>The session is over, with why (raised once).</summary>
    public event Action<MuxSession, string>? Closed;
    /// <summary>A ping this side sent was answered after this many milliseconds.</summary>
    public event Action<double>? RoundTrip;

    public void Start()
    {
        _ = ReadLoopAsync();
    }

    /// <summary>A new stream to the peer (numbered when its first frame is queued), or null if none may be opened here.</summary>
    public MuxStream? TryOpen() => CanOpen ? new MuxStream(this, 0) : null;

    /// <summary>Numbers a stream this side opened, with its first frame queued under the same lock: ids reach the peer in order.</summary>
    private void Number(MuxStream stream, ReadOnlySpan<byte> bytes)
    {
        lock (_openGate)
        {
            if (stream.Id != 0) { QueueOrThrow(MuxKind.Data, stream.Id, bytes); return; }
            if (_nextId > uint.MaxValue || _exhausted)
            {
                _exhausted = true;
                throw new IOException($"the multiplexed link to {Peer} has used every stream id");
            }
            stream.Id = (uint)_nextId;
            _nextId += 2;
            if (_nextId > uint.MaxValue) _exhausted = true;   // the keeper dials another; this one closes with its last stream
            _streams[stream.Id] = stream;
            QueueOrThrow(MuxKind.Data, stream.Id, bytes);
        }
    }

    private async Task ReadLoopAsync()
    {
        var reason = "closed by the peer";
        var header = new byte[MuxFrame.HeaderSize + 8];
        var link = _transport.Stream;
        try
        {
            while (true)
            {
                if (await link.ReadAtLeastAsync(header.AsMemory(0, MuxFrame.HeaderSize), MuxFrame.HeaderSize, throwOnEndOfStream: false, _closed.Token) < MuxFrame.HeaderSize)
                    break;
                Interlocked.Exchange(ref _lastHeard, Environment.TickCount64);
                var (kind, id, length) = MuxFrame.ReadHeader(header);
                if (kind == MuxKind.Data)
                {
                    var payload = ArrayPool<byte>.Shared.Rent(length);
                    await link.ReadExactlyAsync(payload.AsMemory(0, length), _closed.Token);
                    if (StreamFor(id) is not { } stream) ArrayPool<byte>.Shared.Return(payload);   // a stream already forgotten (reset), or refused
                    else if (!stream.Deliver(payload, length))
                        throw new ProtocolException($"{Peer} sent more on stream {id} than its window allows, or after its end");
                    continue;
                }
                var body = header.AsMemory(MuxFrame.HeaderSize, length);
                await link.ReadExactlyAsync(body, _closed.Token);
                switch (kind)
                {
                    case MuxKind.Window:
                        if (Known(id) is { } credited && !credited.Credit(BinaryPrimitives.ReadUInt32BigEndian(body.Span)))
                            throw new ProtocolException($"{Peer} gave more credit on stream {id} than the window holds");
                        break;
                    case MuxKind.Close when Known(id) is { } closing:
                        closing.RemoteClosed();
                        if (closing.Finished) Forget(closing);
                        break;
                    case MuxKind.Reset when Known(id) is { } reset:
                        reset.Break($"{Peer} reset the stream");
                        Forget(reset);
                        break;
                    case MuxKind.Ping when Volatile.Read(ref _queued) < MaxQueued:   // a peer that does not read gets no answers piled up
                        Send(MuxKind.Pong, 0, body.Span);
                        break;
                    case MuxKind.Pong:
                        var rtt = System.Diagnostics.Stopwatch.GetElapsedTime((long)BinaryPrimitives.ReadUInt64BigEndian(body.Span)).TotalMilliseconds;
                        if (rtt is >= 0 and < 60_000) RoundTrip?.Invoke(rtt);
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ProtocolException or ObjectDisposedException or OperationCanceledException or EndOfStreamException
                                      or System.Net.Sockets.SocketException)
        {
            reason = e is ProtocolException ? e.Message : e is EndOfStreamException ? "closed inside a frame" : "connection lost";
        }
        await CloseAsync(reason);
    }

    private MuxStream? Known(uint id) => _streams.GetValueOrDefault(id);

    /// <summary>The stream a Data frame is for: a known one, or a new one if the id is the peer's next (ids only grow).</summary>
    private MuxStream? StreamFor(uint id)
    {
        if (_streams.TryGetValue(id, out var known)) return known;
        var peers = (id & 1) == (Dialed ? 0u : 1u);
        if (!peers || id <= _highestPeerId) return null;   // ours, forgotten; or the peer's, already over
        _highestPeerId = id;
        if (Volatile.Read(ref _peerStreams) >= MaxPeerStreams)
        {
            SendReset(id);
            return null;
        }
        var stream = new MuxStream(this, id);
        _streams[id] = stream;
        Interlocked.Increment(ref _peerStreams);
        StreamOpenedByPeer?.Invoke(this, stream);
        return stream;
    }

    internal void Forget(MuxStream stream)
    {
        if (stream.Id == 0 || !_streams.TryRemove(new KeyValuePair<uint, MuxStream>(stream.Id, stream))) return;
        if ((stream.Id & 1) == (Dialed ? 0u : 1u)) Interlocked.Decrement(ref _peerStreams);
        if (_exhausted && _streams.IsEmpty) _ = CloseAsync("every stream id was used");
    }

    /// <summary>
    /// Writes what is queued, in batches of up to <see cref="BatchSize"/> bytes, unless another caller is at it
    /// already (it takes ours too). A flow's writer drains inline (no hop to another thread per frame); control
    /// frames are drained on the thread pool (<see cref="Kick"/>), so that the read loop never waits on a write:
    /// two gateways whose readers both waited for their full send buffers would wait for each other for ever.
    /// </summary>
    private async ValueTask DrainAsync()
    {
        var link = _transport.Stream;
        var batch = ArrayPool<byte>.Shared.Rent(BatchSize);
        try
        {
            while (true)
            {
                var used = 0;
                while (used < BatchFull && _out.TryDequeue(out var frame))
                {
                    frame.Buffer.AsSpan(0, frame.Length).CopyTo(batch.AsSpan(used));
                    used += frame.Length;
                    ArrayPool<byte>.Shared.Return(frame.Buffer);
                }
                if (used > 0)
                {
                    await link.WriteAsync(batch.AsMemory(0, used), _closed.Token);
                    if (Interlocked.Add(ref _queued, -used) <= MaxQueued) SignalRoom();
                    continue;
                }
                Interlocked.Exchange(ref _writing, 0);   // a full fence: the emptiness check below must not be read before it
                // a frame queued after the queue looked empty, by a caller that saw us still writing: ours to send
                if (_out.IsEmpty || Interlocked.CompareExchange(ref _writing, 1, 0) != 0) return;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            await CloseAsync("connection lost");
        }
        finally { ArrayPool<byte>.Shared.Return(batch); }
    }

    /// <summary>Waits while more than <see cref="MaxQueued"/> bytes wait to be written (a flow's writer, after queuing).</summary>
    internal async ValueTask WaitForRoomAsync(CancellationToken ct)
    {
        while (Volatile.Read(ref _queued) > MaxQueued && !IsClosed)
        {
            Task room;
            lock (_roomGate)
            {
                if (IsClosed || Volatile.Read(ref _queued) <= MaxQueued) return;   // checked under the lock CloseAsync signals under
                _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                room = _room.Task;
            }
            await room.WaitAsync(ct);
        }
    }

    private void SignalRoom()
    {
        TaskCompletionSource? room;
        lock (_roomGate) (room, _room) = (_room, null);
        room?.TrySetResult();
    }

    /// <summary>Sends what a flow queued: writes it now unless someone else is writing.</summary>
    internal ValueTask FlushAsync() =>
        Interlocked.CompareExchange(ref _writing, 1, 0) == 0 ? DrainAsync() : ValueTask.CompletedTask;

    /// <summary>Sends a control frame soon, from a thread of the pool (never from the read loop itself).</summary>
    private void Kick()
    {
        if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0) ThreadPool.UnsafeQueueUserWorkItem(s => _ = s.DrainAsync(), this, preferLocal: false);
    }

    /// <summary>Queues a Data frame of <paramref name="stream"/> (numbering it first if new); the caller then calls <see cref="FlushAsync"/>.</summary>
    internal void QueueData(MuxStream stream, ReadOnlySpan<byte> bytes)
    {
        if (stream.Id == 0) Number(stream, bytes);
        else QueueOrThrow(MuxKind.Data, stream.Id, bytes);
    }

    private void QueueOrThrow(MuxKind kind, uint id, ReadOnlySpan<byte> bytes)
    {
        if (!Queue(kind, id, bytes)) throw new IOException($"the link to {Peer} was lost ({_closeReason ?? "closed"})");
    }

    internal void SendWindow(uint id, uint bytes)
    {
        Span<byte> body = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(body, bytes);
        Send(MuxKind.Window, id, body);
    }

    internal void SendClose(uint id) => Send(MuxKind.Close, id, []);
    internal void SendReset(uint id) => Send(MuxKind.Reset, id, []);

    /// <summary>Sends a control frame; a peer that lets them pile up (it reads nothing) is cut off.</summary>
    private void Send(MuxKind kind, uint id, ReadOnlySpan<byte> body)
    {
        if (Volatile.Read(ref _queued) > 2 * MaxQueued)
        {
            _ = CloseAsync($"{Peer} reads nothing: {Volatile.Read(ref _queued) >> 20} MiB wait to be sent");
            return;
        }
        if (Queue(kind, id, body)) Kick();
    }

    private bool Queue(MuxKind kind, uint id, ReadOnlySpan<byte> body)
    {
        if (IsClosed) return false;
        var frame = ArrayPool<byte>.Shared.Rent(MuxFrame.HeaderSize + body.Length);
        MuxFrame.WriteHeader(frame, kind, id, body.Length);
        body.CopyTo(frame.AsSpan(MuxFrame.HeaderSize));
        Interlocked.Add(ref _queued, MuxFrame.HeaderSize + body.Length);
        _out.Enqueue((frame, MuxFrame.HeaderSize + body.Length));
        return true;
    }

    private void CheckLiveness()
    {
        if (Environment.TickCount64 - Interlocked.Read(ref _lastHeard) >= Liveness.DeadAfter.TotalMilliseconds)
        {
            _ = CloseAsync("silent too long");
            return;
        }
        if (!Dialed) return;
        Span<byte> nonce = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, (ulong)System.Diagnostics.Stopwatch.GetTimestamp());   // a ping carries its send time
        Send(MuxKind.Ping, 0, nonce);
    }

    /// <summary>Ends the session: the connection closes, every stream on it fails (a flow cut never looks complete).</summary>
    public async Task CloseAsync(string reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null) return;
        _closed.Cancel();
        await _liveness.DisposeAsync();
        foreach (var stream in _streams.Values) stream.Break($"the link to {Peer} was lost ({reason})");
        SignalRoom();   // after IsClosed is set: a writer checks it under the same lock before it waits
        _streams.Clear();
        while (_out.TryDequeue(out var frame)) ArrayPool<byte>.Shared.Return(frame.Buffer);   // a writer still at work returns what it took
        await _transport.DisposeAsync();
        Closed?.Invoke(this, reason);
    }

    public ValueTask DisposeAsync() => new(CloseAsync("closed"));
}
