using Mesh.Transport.Protocol;
using static Mesh.Transport.Protocol.FrameCodec;

namespace Mesh.Transport.Flows;

/// <summary>How a relayed flow ended, and which of its two links may carry another flow.</summary>
public sealed record RelayOutcome(PumpOutcome Pump, bool EntrySideReusable, bool OwnerSideReusable);

/// <summary>
/// Splices two links at a relay: frames pass through unchanged, each direction until its End or Abort,
/// so both links end the flow at a frame boundary and can go back to their pools. If one link breaks,
/// the other is told with an Abort (its endpoint resets its plain side) and drained until its last frame.
/// </summary>
public static class RelayPump
{
    public static async Task<RelayOutcome> RunAsync(Stream entrySide, Stream ownerSide, CancellationToken ct, string entryName, string ownerName)
    {
        using var entry = new Side(entrySide, entryName, ct);
        using var owner = new Side(ownerSide, ownerName, ct);
        var activity = new FlowActivity();   // counts the bytes; the endpoints time an idle flow out
        await Task.WhenAll(ForwardAsync(entry, owner, activity, up: true), ForwardAsync(owner, entry, activity, up: false));
        var error = entry.Error ?? owner.Error;
        var result = ct.IsCancellationRequested ? PumpResult.Canceled : error is null ? PumpResult.Completed : PumpResult.Failed;
        return new RelayOutcome(new PumpOutcome(result, activity.Up, activity.Down, error), entry.Reusable, owner.Reusable);
    }

    private sealed class Side(Stream stream, string name, CancellationToken ct) : IDisposable
    {
        private readonly CancellationTokenSource _dead = CancellationTokenSource.CreateLinkedTokenSource(ct);
        public Stream Stream => stream;
        public string Name => name;
        public CancellationToken Alive => _dead.Token;
        public string? Error { get; private set; }
        public volatile bool ReceivedLast, SentLast;
        public bool Reusable => Error is null && !ct.IsCancellationRequested && ReceivedLast && SentLast;

        public void Failed(string error)
        {
            Error ??= error;
            try { _dead.Cancel(); } catch (ObjectDisposedException) { }
        }

        public void Dispose() => _dead.Dispose();
    }

    /// <summary>Copies frames from one side to the other until the last one, counting the Data bytes.</summary>
    private static async Task ForwardAsync(Side from, Side to, FlowActivity activity, bool up)
    {
        var copied = await StreamCopy.RunAsync(from.Stream, CopySource.Frames, chunk =>
        {
            if (chunk.Last) from.ReceivedLast = true;
            return SendAsync(to, chunk.Frame, chunk.Last);
        }, activity, up, from.Alive);
        if (copied.End == CopyEnd.LastFrame) return;
        from.Failed(copied.Error switch
        {
            null => $"{from.Name} closed in the middle of the flow",
            OperationCanceledException => $"{from.Name} was given up",
            ProtocolException e => $"{from.Name}: {e.Message}",
            var e => $"reading from {from.Name}: {e.GetBaseException().Message}",
        });
        // `from` broke: the flow cannot go on; tell the other endpoint so that it resets its side.
        await SendAbortAsync(to, $"{from.Name} broke off at the relay");
    }

    /// <summary>Passes a frame on, unless `to` has had its last frame or broke: then the rest is drained.</summary>
    private static async ValueTask SendAsync(Side to, ReadOnlyMemory<byte> frame, bool last)
    {
        if (to.SentLast || to.Error is not null) return;
        try
        {
            await to.Stream.WriteAsync(frame, to.Alive);
            if (last) to.SentLast = true;
        }
        catch (Exception e) { to.Failed($"writing to {to.Name}: {e.GetBaseException().Message}"); }
    }

    private static ValueTask SendAbortAsync(Side to, string reason)
    {
        var frame = new byte[MaxFrame];   // only when a link broke
        return SendAsync(to, frame.AsMemory(0, Encode(new Abort(reason), frame)), last: true);
    }
}
