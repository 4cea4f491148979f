using System.Buffers;

namespace Mesh.Transport.Protocol;

/// <summary>Reads and writes whole frames on a stream, never reading past the end of a frame.</summary>
public static class FrameIO
{
    /// <summary>Reads one frame into <paramref name="scratch"/> (at least <see cref="FrameCodec.MaxFrame"/> bytes).
    /// Returns null on a clean end of stream before a frame; throws <see cref="ProtocolException"/> on a bad or cut frame.</summary>
    public static async ValueTask<Frame?> ReadAsync(Stream stream, Memory<byte> scratch, CancellationToken ct)
    {
        var header = scratch[..FrameCodec.HeaderSize];
        var got = await stream.ReadAtLeastAsync(header, FrameCodec.HeaderSize, throwOnEndOfStream: false, ct);
        if (got == 0) return null;
        if (got < FrameCodec.HeaderSize) throw new ProtocolException($"connection closed inside a frame header ({got} of {FrameCodec.HeaderSize} bytes)");
        var (type, length) = FrameCodec.DecodeHeader(header.Span);
        if (type == FrameType.Data) throw new ProtocolException("a Data frame outside a flow");
        var payload = scratch.Slice(FrameCodec.HeaderSize, length);
        got = await stream.ReadAtLeastAsync(payload, length, throwOnEndOfStream: false, ct);
        if (got < length) throw new ProtocolException($"connection closed inside a {type} frame ({got} of {length} bytes)");
        return FrameCodec.Decode(type, payload.Span);
    }

    public static async ValueTask WriteAsync(Stream stream, Frame frame, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(FrameCodec.MaxFrame);   // every flow writes Open and Accept: no garbage per flow
        try
        {
            var n = FrameCodec.Encode(frame, buffer);
            await stream.WriteAsync(buffer.AsMemory(0, n), ct);
            await stream.FlushAsync(ct);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }
}
