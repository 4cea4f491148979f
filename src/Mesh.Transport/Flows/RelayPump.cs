using System.Buffers;
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
        var up = ForwardAsync(entry, owner);
        var down = ForwardAsync(owner, entry);
        var (bytesUp, bytesDown) = (await up, await down);
        var error = entry.Error ?? owner.Error;
        var result = ct.IsCancellationRequested ? PumpResult.Canceled : error is null ? PumpResult.Completed : PumpResult.Failed;
        return new RelayOutcome(new PumpOutcome(result, bytesUp, bytesDown, error), entry.Reusable, owner.Reusable);
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

    /// <summary>Copies frames from one side to the other until the last one; returns the Data bytes moved.</summary>
    private static async Task<long> ForwardAsync(Side from, Side to)
    {
        var header = new byte[HeaderSize];
        byte[]? buffer = null;
        long moved = 0;
        try
        {
            while (true)
            {
                if (!await ReadFrameHeaderAsync(from, header)) break;   // broke or closed between frames: the other side is told below
                var (type, length) = DecodeHeader(header);
                buffer ??= ArrayPool<byte>.Shared.Rent(BytePump.BufferSize);
                header.CopyTo(buffer, 0);
                try { await from.Stream.ReadExactlyAsync(buffer.AsMemory(HeaderSize, length), from.Alive); }
                catch (Exception e) { from.Failed($"reading from {from.Name}: {e.GetBaseException().Message}"); break; }
                var last = type is FrameType.End or FrameType.Abort;
                if (type != FrameType.Data && !last) { from.Failed($"{from.Name}: unexpected {type} frame in a flow"); break; }
                if (last) from.ReceivedLast = true;
                if (!to.SentLast && to.Error is null)
                {
                    try
                    {
                        await to.Stream.WriteAsync(buffer.AsMemory(0, HeaderSize + length), to.Alive);
                        if (last) to.SentLast = true;
                    }
                    catch (Exception e) { to.Failed($"writing to {to.Name}: {e.GetBaseException().Message}"); }
                }
                if (type == FrameType.Data) moved += length;
                if (last) return moved;
                if (length < MaxData)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
            // `from` broke: the flow cannot go on; tell the other endpoint so that it resets its side.
            await SendAbortAsync(to, $"{from.Name} broke off at the relay");
            return moved;
        }
        catch (ProtocolException e)
        {
            from.Failed($"{from.Name}: {e.Message}");
            await SendAbortAsync(to, $"{from.Name} broke off at the relay");
            return moved;
        }
        finally { if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>False at the end of `from`'s stream or when it broke (then it is marked failed).</summary>
    private static async Task<bool> ReadFrameHeaderAsync(Side from, byte[] header)
    {
        try
        {
#pragma warning disable CA2022   // a zero-byte read only waits until data is there, holding no buffer
            await from.Stream.ReadAsync(Memory<byte>.Empty, from.Alive);
#pragma warning restore CA2022
            if (await from.Stream.ReadAtLeastAsync(header, HeaderSize, throwOnEndOfStream: false, from.Alive) == HeaderSize) return true;
            from.Failed($"{from.Name} closed in the middle of the flow");
        }
        catch (Exception e) { from.Failed(e is OperationCanceledException ? $"{from.Name} was given up" : $"reading from {from.Name}: {e.GetBaseException().Message}"); }
        return false;
    }

    private static async Task SendAbortAsync(Side to, string reason)
    {
        if (to.SentLast || to.Error is not null) return;
        try
        {
            await FrameIO.WriteAsync(to.Stream, new Abort(reason), to.Alive);
            to.SentLast = true;
        }
        catch (Exception e) { to.Failed($"writing to {to.Name}: {e.GetBaseException().Message}"); }
    }
}
