using System.Buffers;
using System.Buffers.Binary;
using Mesh.Transport.Protocol;
using static Mesh.Transport.Protocol.FrameCodec;

namespace Mesh.Transport.Links;

/// <summary>
/// An edge's control channel to the director through one core gateway: a link connection opened for
/// <see cref="LinkPurpose.Control"/>, never claimed for flows. It carries whole messages (route tables,
/// reports, their answers) as runs of Control frames, and Ping/Pong: the edge pings every
/// <see cref="Liveness.PingEvery"/>, and either side treats <see cref="Liveness.DeadAfter"/> of silence as a
/// lost channel. What a message contains is the caller's business (Mesh.Contracts' wire codec).
/// </summary>
public sealed class ControlChannel : IAsyncDisposable
{
    /// <summary>The largest message either side accepts: a route table of a large mesh fits, a peer cannot exhaust memory.</summary>
    public const int MaxMessage = 16 * 1024 * 1024;

    private readonly LinkConnection _link;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closed = new();
    private long _lastHeard = Environment.TickCount64;
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ControlChannel(LinkConnection link)
    {
        if (link.Purpose != LinkPurpose.Control) throw new ArgumentException("not a control connection", nameof(link));
        _link = link;
    }

    public string Peer => _link.Peer;
    public LinkConnection Link => _link;
    public long MillisSinceHeard => Environment.TickCount64 - Interlocked.Read(ref _lastHeard);
    /// <summary>Completes with the reason once the channel is closed or lost.</summary>
    public Task<string> Ended => _ended.Task;

    /// <summary>Reads until the channel ends; each whole message goes to <paramref name="onMessage"/> (on the reading task).</summary>
    public void Start(Func<ReadOnlyMemory<byte>, Task> onMessage) => _ = ReadLoopAsync(onMessage);

    private async Task ReadLoopAsync(Func<ReadOnlyMemory<byte>, Task> onMessage)
    {
        var header = new byte[HeaderSize];
        var chunk = ArrayPool<byte>.Shared.Rent(MaxData);
        var message = new ArrayBufferWriter<byte>();
        string reason;
        try
        {
            var stream = _link.Stream;
            while (true)
            {
                if (await stream.ReadAtLeastAsync(header, HeaderSize, throwOnEndOfStream: false, _closed.Token) < HeaderSize)
                {
                    reason = "closed by the peer";
                    break;
                }
                var (type, length) = DecodeHeader(header);
                await stream.ReadExactlyAsync(chunk.AsMemory(0, length), _closed.Token);
                Interlocked.Exchange(ref _lastHeard, Environment.TickCount64);
                switch (type)
                {
                    case FrameType.Control:
                        if (length < 1) throw new ProtocolException("empty Control frame");
                        if (message.WrittenCount + length - 1 > MaxMessage) throw new ProtocolException($"control message over {MaxMessage} bytes");
                        message.Write(chunk.AsSpan(1, length - 1));
                        if ((chunk[0] & ControlFrame.FinalFlag) == 0) break;
                        await onMessage(message.WrittenMemory);
                        message.ResetWrittenCount();
                        break;
                    case FrameType.Ping:
                        var ping = (Ping)Decode(type, chunk.AsSpan(0, length));
                        await WriteFrameAsync(new Pong(ping.Nonce));
                        break;
                    case FrameType.Pong:
                        break;
                    default:
                        throw new ProtocolException($"unexpected {type} frame on a control connection");
                }
            }
        }
        catch (ProtocolException e) { reason = e.Message; }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            reason = _closed.IsCancellationRequested ? "closed" : "connection lost";
        }
        finally { ArrayPool<byte>.Shared.Return(chunk); }
        _ended.TrySetResult(reason);
        await DisposeAsync();
    }

    /// <summary>Sends one whole message (in as many Control frames as it needs); false if the channel is gone.</summary>
    public async Task<bool> SendAsync(ReadOnlyMemory<byte> message)
    {
        if (message.Length > MaxMessage) throw new ArgumentException($"control message of {message.Length} bytes is over {MaxMessage}");
        var frame = ArrayPool<byte>.Shared.Rent(HeaderSize + MaxData);
        try
        {
            await _writeLock.WaitAsync(_closed.Token);
            try
            {
                var offset = 0;
                do
                {
                    var n = Math.Min(MaxData - 1, message.Length - offset);
                    frame[0] = (byte)FrameType.Control;
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(1), (ushort)(n + 1));
                    frame[HeaderSize] = offset + n == message.Length ? ControlFrame.FinalFlag : (byte)0;
                    message.Span.Slice(offset, n).CopyTo(frame.AsSpan(HeaderSize + 1));
                    await _link.Stream.WriteAsync(frame.AsMemory(0, HeaderSize + 1 + n), _closed.Token);
                    offset += n;
                } while (offset < message.Length);
                await _link.Stream.FlushAsync(_closed.Token);
                return true;
            }
            finally { _writeLock.Release(); }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            await DisposeAsync();
            return false;
        }
        finally { ArrayPool<byte>.Shared.Return(frame); }
    }

    /// <summary>The dialing side pings; a channel silent for <see cref="Liveness.DeadAfter"/> is closed.</summary>
    public async Task KeepAliveAsync(bool ping)
    {
        if (MillisSinceHeard >= Liveness.DeadAfter.TotalMilliseconds)
        {
            _ended.TrySetResult($"nothing heard for {Liveness.DeadAfter.TotalSeconds:0}s");
            await DisposeAsync();
            return;
        }
        if (ping) await WriteFrameAsync(new Ping((ulong)System.Diagnostics.Stopwatch.GetTimestamp()));
    }

    private async Task WriteFrameAsync(Frame frame)
    {
        try
        {
            await _writeLock.WaitAsync(_closed.Token);
            try { await FrameIO.WriteAsync(_link.Stream, frame, _closed.Token); }
            finally { _writeLock.Release(); }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            await DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_closed.IsCancellationRequested) return;
        try { _closed.Cancel(); } catch (ObjectDisposedException) { return; }
        _ended.TrySetResult("closed");
        await _link.DisposeAsync();
    }
}
