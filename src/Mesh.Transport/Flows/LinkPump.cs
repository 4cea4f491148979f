using Mesh.Transport.Protocol;
using static Mesh.Transport.Protocol.FrameCodec;

namespace Mesh.Transport.Flows;

/// <summary>
/// Carries one flow between a plain TCP side (the client at the entry gateway, the service at the owner)
/// and a link connection, as frames: Data, then one End (the plain side sent FIN) or Abort (it broke off,
/// or the flow timed out) per direction. The link's TLS is never half-closed: on Linux, SslStream.ShutdownAsync
/// racing a pending read made flows come back short (CI, 2026-11-28), and a cut link would read as a clean end.
/// Once both directions have ended with a frame, both sides stand at a frame boundary and the connection
/// can carry the next flow (<see cref="PumpOutcome.LinkReusable"/>).
/// At the entry, the service's End ends the flow (the client is half-closed and no longer read), as in
/// <see cref="BytePump"/>; the owner keeps reading until the entry's End, so both ends stay in step.
/// </summary>
public static class LinkPump
{
    /// <param name="plain">the client's socket (at the entry) or the service's (at the owner)</param>
    /// <param name="link">the claimed link connection's stream</param>
    /// <param name="atEntry">true at the entry gateway: bytes sent on the link go up, towards the service</param>
    /// <param name="ct">the gateway stops the flow: the link is then given up too</param>
    public static async Task<PumpOutcome> RunAsync(Stream plain, Stream link, bool atEntry, TimeSpan idleTimeout, CancellationToken ct,
        string plainSide, string linkSide)
    {
        using var run = new Run(plain, link, atEntry, plainSide, linkSide, ct);
        using (run.Activity.WatchIdle(idleTimeout, () => run.GiveUp($"no bytes either way for {Describe(idleTimeout)}")))
            await Task.WhenAll(run.SendAsync(), run.ReceiveAsync());
        return run.Outcome();
    }

    private static string Describe(TimeSpan t) =>
        t.TotalHours >= 1 && t.TotalHours % 1 == 0 ? $"{t.TotalHours:0}h"
        : t.TotalMinutes >= 1 && t.TotalMinutes % 1 == 0 ? $"{t.TotalMinutes:0}m"
        : t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#}s"
        : $"{t.TotalMilliseconds:0}ms";

    private sealed class Run(Stream plain, Stream link, bool atEntry, string plainSide, string linkSide, CancellationToken ct) : IDisposable
    {
        private readonly CancellationTokenSource _stopReadingPlain = CancellationTokenSource.CreateLinkedTokenSource(ct);
        private readonly CancellationTokenSource _stopWritingPlain = CancellationTokenSource.CreateLinkedTokenSource(ct);
        private readonly CancellationTokenSource _linkDead = CancellationTokenSource.CreateLinkedTokenSource(ct);
        private string? _giveUpReason, _plainError, _linkError, _peerAbort;
        private volatile bool _sentLast, _receivedLast;
        private bool _plainWritable = true;   // only ReceiveAsync writes to the plain side

        public FlowActivity Activity { get; } = new();

        /// <summary>We give up the flow (idle, or our plain side broke): the peer hears Abort, our plain side is reset.</summary>
        public void GiveUp(string reason)
        {
            Interlocked.CompareExchange(ref _giveUpReason, reason, null);
            Cancel(_stopReadingPlain);
            Cancel(_stopWritingPlain);
        }

        private void LinkFailed(string error)
        {
            Interlocked.CompareExchange(ref _linkError, error, null);
            Cancel(_linkDead);
            Cancel(_stopReadingPlain);
            Cancel(_stopWritingPlain);
        }

        /// <summary>Plain side -> link: Data frames, then End (FIN) or Abort (we gave up).</summary>
        public async Task SendAsync()
        {
            var copied = await StreamCopy.RunAsync(plain, CopySource.PlainIntoFrames, chunk =>
            {
                EncodeDataHeader(chunk.Buffer, chunk.Count);
                return link.WriteAsync(chunk.Frame, _linkDead.Token);
            }, Activity, up: atEntry, _stopReadingPlain.Token);
            switch (copied)
            {
                case { End: CopyEnd.WriteFailed, Error: { } e }:
                    LinkFailed($"writing to {linkSide}: {e.GetBaseException().Message}");
                    return;
                case { End: CopyEnd.ReadFailed, Error: not OperationCanceledException and { } e }:   // canceled: the flow is ending
                    Interlocked.CompareExchange(ref _plainError, $"reading from {plainSide}: {e.GetBaseException().Message}", null);
                    GiveUp($"{plainSide} broke off: {e.GetBaseException().Message}");
                    break;
            }
            try
            {
                Frame last = _giveUpReason is { } why ? new Abort(why) : End.Instance;
                await FrameIO.WriteAsync(link, last, _linkDead.Token);
                _sentLast = true;
            }
            catch (Exception e) { LinkFailed($"writing to {linkSide}: {e.GetBaseException().Message}"); }
        }

        /// <summary>Link -> plain side, until the peer's End (half-close ours) or Abort (reset ours).</summary>
        public async Task ReceiveAsync()
        {
            var copied = await StreamCopy.RunAsync(link, CopySource.Frames, chunk =>
            {
                if (!chunk.Last) return WritePlainAsync(chunk.Bytes);
                OnLastFrame(Decode(chunk.Type, chunk.Bytes.Span));
                return ValueTask.CompletedTask;
            }, Activity, up: !atEntry, _linkDead.Token);
            if (copied.End != CopyEnd.LastFrame) LinkFailed(copied.Error switch
            {
                null => $"{linkSide} closed in the middle of the flow",
                ProtocolException e => $"{linkSide}: {e.Message}",
                var e => $"reading from {linkSide}: {e.GetBaseException().Message}",
            });
        }

        /// <summary>Writes to the plain side until it cannot take more; the rest of the flow is then drained.</summary>
        private async ValueTask WritePlainAsync(ReadOnlyMemory<byte> bytes)
        {
            if (!_plainWritable) return;
            try { await plain.WriteAsync(bytes, _stopWritingPlain.Token); }
            catch (OperationCanceledException) { _plainWritable = false; }   // we gave up: drain until the peer's last frame
            catch (Exception e)
            {
                _plainWritable = false;
                // Our side already ended its sending (e.g. a service that answered and closed): not a failure.
                if (_sentLast) return;
                Interlocked.CompareExchange(ref _plainError, $"writing to {plainSide}: {e.GetBaseException().Message}", null);
                GiveUp($"{plainSide} broke off: {e.GetBaseException().Message}");
            }
        }

        private void OnLastFrame(Frame last)
        {
            _receivedLast = true;
            if (last is Abort abort)
            {
                _peerAbort = abort.Message;
                Cancel(_stopReadingPlain);   // our side is reset once the pump returns
                return;
            }
            StreamCopy.HalfClose(plain);
            if (atEntry) Cancel(_stopReadingPlain);   // the service is done: so is the flow
        }

        public PumpOutcome Outcome()
        {
            var (result, error) =
                ct.IsCancellationRequested ? (PumpResult.Canceled, null)
                : Activity.TimedOut ? (PumpResult.IdleTimeout, null)
                : _linkError is not null ? (PumpResult.Failed, _linkError)
                : _plainError is not null ? (PumpResult.Failed, _plainError)
                : _peerAbort is not null ? (PumpResult.Failed, $"{linkSide} aborted the flow: {_peerAbort}")
                : (PumpResult.Completed, (string?)null);
            return new PumpOutcome(result, Activity.Up, Activity.Down, error, LinkReusable: _linkError is null && _sentLast && _receivedLast);
        }

        private static void Cancel(CancellationTokenSource cts)
        {
            try { cts.Cancel(); }
            catch (ObjectDisposedException) { }   // the idle timer fired as the flow ended
        }

        public void Dispose()
        {
            _stopReadingPlain.Dispose();
            _stopWritingPlain.Dispose();
            _linkDead.Dispose();
        }
    }
}
