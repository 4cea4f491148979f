using System.Buffers;
using System.Net.Sockets;

namespace Mesh.Transport.Flows;

public enum PumpResult { Completed, Failed, IdleTimeout, Canceled }

/// <summary>
/// What a flow moved and how it ended; <paramref name="Error"/> says which side failed and why.
/// <paramref name="LinkReusable"/>: the flow ended cleanly on its link, which may carry another flow.
/// </summary>
public sealed record PumpOutcome(PumpResult Result, long BytesUp, long BytesDown, string? Error = null, bool LinkReusable = false);

/// <summary>
/// Copies bytes both ways between a client socket and a service socket (a flow to a service of this
/// gateway; flows over a link use <see cref="LinkPump"/>). The client's end of stream only
/// half-closes the service side and the reply goes on, so a client that
/// shuts its sending side still gets the whole reply; the service's end of stream, once delivered, ends
/// the flow (cf. YARP's StreamCopier): nothing is left half-open waiting for a client. Idle flows hold no buffer:
/// each direction waits with a zero-byte read and rents a buffer only while data moves.
/// </summary>
public static class BytePump
{
    public const int BufferSize = 64 * 1024;

    /// <param name="clientSide">names the client side in errors ("the client", "the link from core1")</param>
    /// <param name="serviceSide">names the service side in errors ("the service", "the link to core2")</param>
    public static async Task<PumpOutcome> RunAsync(Stream client, Stream service, TimeSpan idleTimeout, CancellationToken ct,
        string clientSide = "the client", string serviceSide = "the service")
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var activity = new FlowActivity();
        using var idle = activity.WatchIdle(idleTimeout, cts.Cancel);
        var up = CopyAsync(client, service, activity, isUp: true, cts, clientSide, serviceSide);
        var down = CopyAsync(service, client, activity, isUp: false, cts, serviceSide, clientSide);
        var downEnd = await down;
        if (!up.IsCompleted) await cts.CancelAsync();   // the service is done: the flow is over
        var upEnd = await up;
        if (activity.TimedOut) return new PumpOutcome(PumpResult.IdleTimeout, activity.Up, activity.Down);
        var end = upEnd.Result is not (PumpResult.Completed or PumpResult.Canceled) ? upEnd
            : downEnd;   // a failure, else Completed, or Canceled from outside
        return new PumpOutcome(end.Result, activity.Up, activity.Down, end.Error);
    }

    private sealed record DirectionEnd(PumpResult Result, string? Error = null);

    private static async Task<DirectionEnd> CopyAsync(Stream from, Stream to, FlowActivity activity, bool isUp, CancellationTokenSource cts,
        string fromSide, string toSide)
    {
        var ct = cts.Token;
        DirectionEnd ReadFailed(Exception e) => Failed($"reading from {fromSide}: {e.GetBaseException().Message}");
        DirectionEnd WriteFailed(Exception e) => Failed($"writing to {toSide}: {e.GetBaseException().Message}");
        DirectionEnd Failed(string error)
        {
            cts.Cancel();
            return new(PumpResult.Failed, error);
        }
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
                catch (Exception e) when (e is not OperationCanceledException) { return ReadFailed(e); }
                if (n == 0) break;
                activity.Moved(n, isUp);
                try { await to.WriteAsync(buffer.AsMemory(0, n), ct); }
                catch (Exception e) when (e is not OperationCanceledException) { return WriteFailed(e); }
                if (n < buffer.Length)
                {   // the burst is over: give the buffer back while we wait
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
            HalfClose(to);
            return new(PumpResult.Completed);
        }
        catch (OperationCanceledException) { return new(PumpResult.Canceled); }
        catch (Exception e) { return ReadFailed(e); }
        finally { if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Tells the far side of a TCP socket we will send no more (FIN), keeping the other direction open.</summary>
    internal static void HalfClose(Stream to)
    {
        if (to is not NetworkStream ns) return;
        try { ns.Socket.Shutdown(SocketShutdown.Send); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }
}
