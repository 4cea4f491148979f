using System.Buffers;
using System.Net.Sockets;
using Mesh.Transport.Protocol;
using static Mesh.Transport.Protocol.FrameCodec;

namespace Mesh.Transport.Flows;

/// <summary>What <see cref="StreamCopy"/> reads: plain bytes (a client's or a service's socket) or a flow's frames on a link.</summary>
internal enum CopySource
{
    Plain,
    /// <summary>Plain bytes read after room for a frame header, which the writer fills to send them as a Data frame.</summary>
    PlainIntoFrames,
    /// <summary>Data frames, then one End or Abort (the last, also handed to the writer); any other frame is a <see cref="ProtocolException"/>.</summary>
    Frames,
}

/// <summary>
/// How a copy ended: <c>SourceClosed</c> is the source's end of stream (a FIN on a plain side; between frames on a
/// link, a cut), <c>LastFrame</c> an End or Abort; a failure carries its exception, an <see cref="OperationCanceledException"/> if canceled.
/// </summary>
internal enum CopyEnd { SourceClosed, LastFrame, ReadFailed, WriteFailed }

internal readonly record struct CopyResult(CopyEnd End, Exception? Error = null);

/// <summary>One read in the pooled buffer: <see cref="Bytes"/>, with room for (or the read) frame header before them.</summary>
internal readonly record struct Chunk(byte[] Buffer, int Start, int Count, FrameType Type)
{
    public Memory<byte> Bytes => Buffer.AsMemory(Start, Count);
    /// <summary>The frame as read, header first (not for <see cref="CopySource.Plain"/>, which leaves no room for one).</summary>
    public Memory<byte> Frame => Buffer.AsMemory(0, HeaderSize + Count);
    public bool Last => Type is FrameType.End or FrameType.Abort;
}

/// <summary>
/// The one read/rent/return loop of the pumps (cf. YARP's StreamCopier): each chunk read from a stream is handed to
/// a writer and counted for the flow (bytes, idle timeout). Idle flows hold no buffer: the loop waits with a zero-byte
/// read, rents a pooled buffer only while data moves and gives it back once a short read shows the burst is over.
/// It never throws: the result says which side ended the copy and how, and each pump decides what that means.
/// </summary>
internal static class StreamCopy
{
    /// <summary>Fits the largest Data frame with its header (<see cref="MaxData"/>).</summary>
    public const int BufferSize = 64 * 1024;

    /// <param name="write">sends a chunk on (or drains it, catching its own errors); what it throws ends the copy as WriteFailed</param>
    /// <param name="up">the chunks' Data bytes count as sent towards the service</param>
    /// <param name="ct">reads stop with it; the writer uses its own token</param>
    public static async Task<CopyResult> RunAsync(Stream from, CopySource source, Func<Chunk, ValueTask> write,
        FlowActivity activity, bool up, CancellationToken ct)
    {
        var start = source == CopySource.Plain ? 0 : HeaderSize;
        var full = BufferSize - start;   // a read this long may have more behind it: keep the buffer
        byte[]? buffer = null;
        var writing = false;
        try
        {
            while (true)
            {
#pragma warning disable CA2022   // a zero-byte read returns 0 by design: it only waits until data is there, holding no buffer
                await from.ReadAsync(Memory<byte>.Empty, ct);
#pragma warning restore CA2022
                buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
                var (type, count) = (FrameType.Data, 0);
                if (source == CopySource.Frames)
                {
                    if (await from.ReadAtLeastAsync(buffer.AsMemory(0, HeaderSize), HeaderSize, throwOnEndOfStream: false, ct) < HeaderSize)
                        return new(CopyEnd.SourceClosed);   // between frames, or inside a header
                    (type, count) = DecodeHeader(buffer);
                    if (type is not (FrameType.Data or FrameType.End or FrameType.Abort)) throw new ProtocolException($"unexpected {type} frame in a flow");
                    await from.ReadExactlyAsync(buffer.AsMemory(HeaderSize, count), ct);
                }
                else if ((count = await from.ReadAsync(buffer.AsMemory(start, full), ct)) == 0) return new(CopyEnd.SourceClosed);
                var chunk = new Chunk(buffer, start, count, type);
                writing = true;
                await write(chunk);
                writing = false;
                if (chunk.Last) return new(CopyEnd.LastFrame);
                activity.Moved(count, up);
                if (count < full)
                {   // the burst is over: give the buffer back while we wait
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (Exception e) { return new(writing ? CopyEnd.WriteFailed : CopyEnd.ReadFailed, e); }
        finally { if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Tells the far side of a TCP socket we will send no more (FIN), keeping the other direction open.</summary>
    public static void HalfClose(Stream to)
    {
        if (to is not NetworkStream ns) return;
        try { ns.Socket.Shutdown(SocketShutdown.Send); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }
}
