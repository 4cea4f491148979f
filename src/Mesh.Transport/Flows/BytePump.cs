using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;

namespace Mesh.Transport.Flows;

public enum PumpResult { Completed, ClientFailed, LinkFailed, IdleTimeout, Canceled }

/// <summary>What a flow moved and how it ended.</summary>
public sealed record PumpOutcome(PumpResult Result, long BytesUp, long BytesDown);

/// <summary>
/// Copies bytes both ways between a client side and a service side. The client's end of stream only
/// half-closes the service side (TCP FIN, or TLS close_notify) and the reply goes on, so a client that
/// shuts its sending side still gets the whole reply; the service's end of stream, once delivered, ends
/// the flow (cf. YARP's StreamCopier): nothing is left half-open waiting for a client. Idle flows hold no buffer:
/// each direction waits with a zero-byte read and rents a buffer only while data moves.
/// </summary>
public static class BytePump
{
    public const int BufferSize = 64 * 1024;

    public static async Task<PumpOutcome> RunAsync(Stream client, Stream service, TimeSpan idleTimeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var activity = new Activity();
        using var idle = idleTimeout > TimeSpan.Zero && idleTimeout != Timeout.InfiniteTimeSpan
            ? new Timer(_ => { if (activity.IdleFor > idleTimeout) { activity.TimedOut = true; cts.Cancel(); } },
                null, idleTimeout / 4, idleTimeout / 4)
            : null;
        var up = CopyAsync(client, service, activity, isUp: true, cts);
        var down = CopyAsync(service, client, activity, isUp: false, cts);
        var downResult = await down;
        if (!up.IsCompleted) await cts.CancelAsync();   // the service is done: the flow is over
        var upResult = await up;
        var result = activity.TimedOut ? PumpResult.IdleTimeout
            : upResult is not (PumpResult.Completed or PumpResult.Canceled) ? upResult
            : downResult is not (PumpResult.Completed or PumpResult.Canceled) ? downResult
            : downResult;   // Completed, or Canceled from outside
        return new PumpOutcome(result, activity.Up, activity.Down);
    }

    private static async Task<PumpResult> CopyAsync(Stream from, Stream to, Activity activity, bool isUp, CancellationTokenSource cts)
    {
        var ct = cts.Token;
        var readFailure = isUp ? PumpResult.ClientFailed : PumpResult.LinkFailed;
        var writeFailure = isUp ? PumpResult.LinkFailed : PumpResult.ClientFailed;
        byte[]? buffer = null;
        try
        {
            while (true)
            {
#pragma warning disable CA2022   // a zero-byte read is meant to return 0: it only waits until data is there
                await from.ReadAsync(Memory<byte>.Empty, ct);          // wait for data without holding a buffer
#pragma warning restore CA2022
                buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
                int n;
                try { n = await from.ReadAsync(buffer, ct); }
                catch (Exception e) when (e is not OperationCanceledException) { cts.Cancel(); return readFailure; }
                if (n == 0) break;
                activity.Moved(n, isUp);
                try { await to.WriteAsync(buffer.AsMemory(0, n), ct); }
                catch (Exception e) when (e is not OperationCanceledException) { cts.Cancel(); return writeFailure; }
                if (n < buffer.Length)
                {   // the burst is over: give the buffer back while we wait
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
            await HalfCloseAsync(to);
            return PumpResult.Completed;
        }
        catch (OperationCanceledException) { return PumpResult.Canceled; }
        catch (Exception) { cts.Cancel(); return readFailure; }
        finally { if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Tells the far side we will send no more, keeping the other direction open.</summary>
    private static async Task HalfCloseAsync(Stream to)
    {
        try
        {
            switch (to)
            {
                case NetworkStream ns: ns.Socket.Shutdown(SocketShutdown.Send); break;
                case SslStream tls: await tls.ShutdownAsync(); break;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
    }

    private sealed class Activity
    {
        private long _last = Environment.TickCount64;
        private long _up, _down;
        public volatile bool TimedOut;
        public long Up => Interlocked.Read(ref _up);
        public long Down => Interlocked.Read(ref _down);
        public TimeSpan IdleFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _last));

        public void Moved(int n, bool up)
        {
            Interlocked.Exchange(ref _last, Environment.TickCount64);
            if (up) Interlocked.Add(ref _up, n); else Interlocked.Add(ref _down, n);
        }
    }
}
