using System.Buffers.Binary;
using Mesh.Transport.Protocol;

namespace Mesh.Transport.Links.Mux;

/// <summary>What a frame of a multiplexed link does. Values are on the wire: never renumber.</summary>
internal enum MuxKind : byte
{
    /// <summary>Bytes of a stream; the first Data of an id the peer may open opens the stream.</summary>
    Data = 1,
    /// <summary>The receiver read this many more bytes (u32): the sender may send as many more.</summary>
    Window = 2,
    /// <summary>The sender will send no more on this stream (its end of stream).</summary>
    Close = 3,
    /// <summary>The sender gave the stream up: the receiver's reads and writes fail.</summary>
    Reset = 4,
    /// <summary>The dialer's liveness probe (u64 nonce) and its answer.</summary>
    Ping = 5,
    Pong = 6,
}

/// <summary>
/// Frames of a multiplexed link, after Hello(purpose = mux): [kind u8][stream u32 big-endian][length u16 big-endian][payload].
/// A stream's bytes are its flow's frames of the ordinary link protocol (Open, Accept, Data, End …), so a
/// stream is to a flow what a pooled connection is, and the flow code does not know which one it has.
/// </summary>
internal static class MuxFrame
{
    public const int HeaderSize = 7;
    /// <summary>
    /// The most bytes of one stream in one frame: flows take turns on the link at this grain. 16 KiB frames
    /// (one TLS record) cost one bulk flow half its throughput in a first run, in frames handled one by one.
    /// </summary>
    public const int MaxData = ushort.MaxValue;
    /// <summary>
    /// How many bytes a stream may have sent and not yet read by the other side: what a slow reader holds at
    /// most on the receiving gateway, and, divided by the round trip, the most one flow can carry.
    /// </summary>
    public const int Window = 512 * 1024;

    /// <summary>
    /// What a Data frame costs against the window besides its bytes: the receiver holds each frame in an array
    /// of its own, so a peer sending 1-byte frames would otherwise make 512 KiB of window cost 36 MiB.
    /// </summary>
    public const int FrameCost = 64;

    public static int Cost(int bytes) => bytes + FrameCost;

    public static void WriteHeader(Span<byte> to, MuxKind kind, uint stream, int length)
    {
        to[0] = (byte)kind;
        BinaryPrimitives.WriteUInt32BigEndian(to[1..], stream);
        BinaryPrimitives.WriteUInt16BigEndian(to[5..], (ushort)length);
    }

    /// <summary>Reads a header, checking the kind and the length before any payload is read.</summary>
    public static (MuxKind Kind, uint Stream, int Length) ReadHeader(ReadOnlySpan<byte> from)
    {
        var kind = (MuxKind)from[0];
        var stream = BinaryPrimitives.ReadUInt32BigEndian(from[1..]);
        int length = BinaryPrimitives.ReadUInt16BigEndian(from[5..]);
        var expected = kind switch
        {
            MuxKind.Data => -1,
            MuxKind.Window => 4,
            MuxKind.Close or MuxKind.Reset => 0,
            MuxKind.Ping or MuxKind.Pong => 8,
            _ => throw new ProtocolException($"unknown mux frame kind 0x{from[0]:x2}"),
        };
        if (kind == MuxKind.Data && (length is 0 or > MaxData)) throw new ProtocolException($"mux Data frame of {length} bytes (1 to {MaxData})");
        if (expected >= 0 && length != expected) throw new ProtocolException($"mux {kind} frame of {length} bytes, not {expected}");
        return (kind, stream, length);
    }
}
