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
/// the flow (cf. YARP's StreamCopier): nothing is left half-open waiting for a client. Idle flows hold no buffer
/// (<see cref="StreamCopy"/>).
/// </summary>
public static class BytePump
{
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
        var copied = await StreamCopy.RunAsync(from, CopySource.Plain, chunk => to.WriteAsync(chunk.Bytes, ct), activity, isUp, ct);
        switch (copied)
        {
            case { End: CopyEnd.SourceClosed }:
                StreamCopy.HalfClose(to);
                return new(PumpResult.Completed);
            case { Error: OperationCanceledException }: return new(PumpResult.Canceled);
        }
        cts.Cancel();   // one side broke: the flow is over both ways
        var where = copied.End == CopyEnd.ReadFailed ? $"reading from {fromSide}" : $"writing to {toSide}";
        return new(PumpResult.Failed, $"{where}: {copied.Error!.GetBaseException().Message}");
    }
}
