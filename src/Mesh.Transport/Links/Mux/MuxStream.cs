using System.Buffers;

namespace Mesh.Transport.Links.Mux;

/// <summary>
/// One stream of a multiplexed link, read and written like a connection. Writes wait for credit (the
/// peer's window): a flow whose reader is slow stops its own sender and nobody else's. Reads hand out what
/// the session delivered, and give the credit back as they go. A stream holds no buffer while it is idle.
/// Dispose sends Close (end of stream); <see cref="Reset"/> gives the stream up, which the peer's reads and
/// writes see as a failure, never as an end.
/// </summary>
public sealed class MuxStream : Stream
{
    private readonly MuxSession _session;
    private readonly object _gate = new();
    private readonly Queue<(byte[] Buffer, int Count)> _received = new();
    /// <summary>How much of the first received chunk was read already.</summary>
    private int _headRead;
    private readonly SemaphoreSlim _writeTurn = new(1, 1);
    private TaskCompletionSource? _readable, _credited;
    private int _buffered, _unacknowledged;
    private long _credit = MuxFrame.Window;
    private bool _remoteClosed, _localClosed;
    private string? _broken;

    /// <param name="id">the peer's id for a stream it opened; 0 for one this side opens (<see cref="MuxSession.QueueData"/> numbers it)</param>
    internal MuxStream(MuxSession session, uint id)
    {
        _session = session;
        Id = id;
    }

    /// <summary>
    /// The stream's id; 0 until this side's first frame on it is queued. Ids are given in the order first frames
    /// are queued, because a peer takes an id below the highest it has seen for a stream already over.
    /// </summary>
    public uint Id { get; internal set; }

    /// <summary>Both sides are done with it, or it broke: the session forgets it.</summary>
    internal bool Finished
    {
        get { lock (_gate) return _broken is not null || (_remoteClosed && _localClosed); }
    }

    // ---- from the session's read loop (never blocks: the window bounds what a stream holds) ----

    /// <summary>Takes a received payload (the stream owns <paramref name="buffer"/> from now on); false if the peer overran its window.</summary>
    internal bool Deliver(byte[] buffer, int count)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_broken is not null || _localClosed || _remoteClosed)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return !_remoteClosed || _broken is not null;   // after our reset or our end, late bytes are dropped; after the peer's Close, an error
            }
            if (_buffered + MuxFrame.Cost(count) > MuxFrame.Window)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return false;
            }
            _received.Enqueue((buffer, count));
            _buffered += MuxFrame.Cost(count);
            wake = Take(ref _readable);
        }
        wake?.TrySetResult();
        return true;
    }

    /// <summary>The peer read <paramref name="bytes"/> more; false if that is more than was sent (a peer that lies about its window).</summary>
    internal bool Credit(uint bytes)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_credit + bytes > MuxFrame.Window) return false;
            _credit += bytes;
            wake = Take(ref _credited);
        }
        wake?.TrySetResult();
        return true;
    }

    internal void RemoteClosed()
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _remoteClosed = true;
            wake = Take(ref _readable);
        }
        wake?.TrySetResult();
    }

    /// <summary>The peer reset the stream, or the link under it was lost: every read and write fails from now on.</summary>
    internal void Break(string reason)
    {
        TaskCompletionSource? readable, credited;
        lock (_gate)
        {
            _broken ??= reason;
            readable = Take(ref _readable);
            credited = Take(ref _credited);
            DropReceived();
        }
        readable?.TrySetResult();
        credited?.TrySetResult();
    }

    // ---- the flow's side ----

    public override async ValueTask<int> ReadAsync(Memory<byte> into, CancellationToken ct = default)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_broken is not null) throw new IOException(_broken);
                if (_received.Count > 0)
                {
                    if (into.Length == 0) return 0;   // a zero-byte read only waits until bytes are there
                    var (read, credit) = Consume(into.Span);
                    if (credit > 0) _session.SendWindow(Id, credit);
                    return read;
                }
                if (_remoteClosed) return 0;
                _readable ??= new TaskCompletionSource();
                wait = _readable.Task;
            }
            await wait.WaitAsync(ct);
        }
    }

    /// <summary>Copies out what was received (under the lock); returns the credit to give back once a quarter of the window was read.</summary>
    private (int Read, uint Credit) Consume(Span<byte> into)
    {
        var copied = 0;
        while (copied < into.Length && _received.TryPeek(out var chunk))
        {
            var n = Math.Min(chunk.Count - _headRead, into.Length - copied);
            chunk.Buffer.AsSpan(_headRead, n).CopyTo(into[copied..]);
            copied += n;
            _headRead += n;
            if (_headRead < chunk.Count) break;
            _received.Dequeue();
            _headRead = 0;
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
            _buffered -= MuxFrame.FrameCost;   // a frame's own cost comes back with its last byte
            _unacknowledged += MuxFrame.FrameCost;
        }
        _buffered -= copied;
        _unacknowledged += copied;
        if (_unacknowledged < MuxFrame.Window / 4) return (copied, 0);
        var credit = (uint)_unacknowledged;
        _unacknowledged = 0;
        return (copied, credit);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        await _writeTurn.WaitAsync(ct);
        try
        {
            while (bytes.Length > 0)
            {
                // a flow's 64 KiB frame goes as two halves, not as a full frame and a sliver
                var frames = (bytes.Length + MuxFrame.MaxData - 1) / MuxFrame.MaxData;
                var n = await TakeCreditAsync((bytes.Length + frames - 1) / frames, ct);
                lock (_gate)
                {   // never after our Close or a reset: the peer would cut the whole session
                    if (_broken is not null) throw new IOException(_broken);
                    if (_localClosed) throw new ObjectDisposedException(nameof(MuxStream));
                    _session.QueueData(this, bytes.Span[..n]);
                }
                bytes = bytes[n..];
                await _session.FlushAsync();
                await _session.WaitForRoomAsync(ct);
            }
        }
        finally { _writeTurn.Release(); }
    }

    /// <summary>Waits until the peer's window has room, and takes up to <paramref name="wanted"/> bytes of it.</summary>
    private async ValueTask<int> TakeCreditAsync(int wanted, CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_broken is not null) throw new IOException(_broken);
                if (_localClosed) throw new ObjectDisposedException(nameof(MuxStream));
                if (_credit > MuxFrame.FrameCost)
                {
                    var n = (int)Math.Min(_credit - MuxFrame.FrameCost, wanted);
                    _credit -= MuxFrame.Cost(n);
                    return n;
                }
                _credited ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _credited.Task;
            }
            await wait.WaitAsync(ct);
        }
    }

    /// <summary>Gives the stream up: the peer's side fails (a broken flow must never look complete).</summary>
    public void Reset()
    {
        bool send;
        lock (_gate) send = Id != 0 && _broken is null && !(_localClosed && _remoteClosed);
        Break("the stream was reset");
        if (send) _session.SendReset(Id);
        _session.Forget(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        bool send;
        lock (_gate)
        {
            send = Id != 0 && !_localClosed && _broken is null;   // a stream never written to is unknown to the peer
            _localClosed = true;
            DropReceived();   // nobody reads them now
        }
        if (send) _session.SendClose(Id);
        _session.Forget(this);   // the peer's late frames for it are dropped; waiting for its Close would let a peer that never sends one grow the table
    }

    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        return ValueTask.CompletedTask;
    }

    private void DropReceived()
    {
        while (_received.TryDequeue(out var chunk)) ArrayPool<byte>.Shared.Return(chunk.Buffer);
        (_buffered, _headRead) = (0, 0);
    }

    private static TaskCompletionSource? Take(ref TaskCompletionSource? signal)
    {
        var s = signal;
        signal = null;
        return s;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;   // the session's writer sends as soon as it can
    public override void Flush() { }
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
