using System.Buffers.Binary;
using System.Text;

namespace Mesh.Transport.Protocol;

/// <summary>
/// Frames on the wire: [type: u8][payload length: u16 big-endian][payload]. Strings are [length: u8][UTF-8].
/// A length is checked against <see cref="MaxPayload"/> before anything is read or allocated, so a peer
/// cannot make us allocate: frames are read into a fixed buffer of <see cref="MaxFrame"/> bytes.
/// </summary>
public static class FrameCodec
{
    public const byte ProtocolVersion = 1;
    public const byte OpenVersion = 1;
    public const int HeaderSize = 3;
    public const int MaxPayload = 1024;
    public const int MaxFrame = HeaderSize + MaxPayload;
    public const int MaxString = 255;
    /// <summary>The largest Data frame: a 64 KiB buffer holds the header and the bytes.</summary>
    public const int MaxData = 64 * 1024 - HeaderSize;

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>Encodes <paramref name="frame"/> into <paramref name="buffer"/>; returns the bytes used.</summary>
    public static int Encode(Frame frame, Span<byte> buffer)
    {
        var w = new Writer(buffer[HeaderSize..]);
        switch (frame)
        {
            case Hello h: w.U8(h.Version); w.Str(h.Gateway); break;
            case HelloAck h: w.U8(h.Version); w.Str(h.Gateway); break;
            case Ping p: w.U64(p.Nonce); break;
            case Pong p: w.U64(p.Nonce); break;
            case Open o: w.U8(o.Version); w.Guid(o.FlowId); w.Str(o.Service); w.Str(o.Destination); w.U8(o.HopBudget); w.Str(o.ClientAddress); break;
            case Accept a: w.Guid(a.FlowId); break;
            case Refuse r: w.Guid(r.FlowId); w.U8((byte)r.Reason); w.Str(Shorten(r.Message)); break;
            case End: break;
            case Abort a: w.Str(Shorten(a.Message)); break;
            default: throw new ArgumentException($"unknown frame {frame.GetType().Name}");
        }
        buffer[0] = (byte)frame.Type;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[1..], (ushort)w.Written);
        return HeaderSize + w.Written;
    }

    private static string Shorten(string message) => message.Length > 200 ? message[..200] : message;

    /// <summary>Writes the header of a Data frame of <paramref name="length"/> bytes.</summary>
    public static void EncodeDataHeader(Span<byte> header, int length)
    {
        header[0] = (byte)FrameType.Data;
        BinaryPrimitives.WriteUInt16BigEndian(header[1..], (ushort)length);
    }

    /// <summary>Reads the header; throws if the type is unknown or the length is over the limit
    /// (<see cref="MaxData"/> for Data frames, <see cref="MaxPayload"/> for the others).</summary>
    public static (FrameType Type, int Length) DecodeHeader(ReadOnlySpan<byte> header)
    {
        var type = (FrameType)header[0];
        if (!Enum.IsDefined(type)) throw new ProtocolException($"unknown frame type 0x{header[0]:x2} (not a Mesh link, or a newer protocol)");
        var length = BinaryPrimitives.ReadUInt16BigEndian(header[1..]);
        var max = type == FrameType.Data ? MaxData : MaxPayload;
        if (length > max) throw new ProtocolException($"oversized {type} frame: {length} bytes, at most {max}");
        return (type, length);
    }

    public static Frame Decode(FrameType type, ReadOnlySpan<byte> payload)
    {
        var r = new Reader(payload, type);
        Frame frame = type switch
        {
            FrameType.Hello => new Hello(r.U8(), r.Str()),
            FrameType.HelloAck => new HelloAck(r.U8(), r.Str()),
            FrameType.Ping => new Ping(r.U64()),
            FrameType.Pong => new Pong(r.U64()),
            FrameType.Open => DecodeOpen(ref r),
            FrameType.Accept => new Accept(r.Guid()),
            FrameType.Refuse => new Refuse(r.Guid(), Reason(r.U8()), r.Str()),
            FrameType.End => End.Instance,
            FrameType.Abort => new Abort(r.Str()),
            FrameType.Data => throw new ProtocolException("a Data frame outside a flow"),
            _ => throw new ProtocolException($"unknown frame type 0x{(byte)type:x2}"),
        };
        r.End();
        return frame;
    }

    private static Open DecodeOpen(ref Reader r)
    {
        var version = r.U8();
        if (version != OpenVersion) throw new ProtocolException($"open frame version {version} is not supported (this gateway speaks {OpenVersion})");
        return new Open(version, r.Guid(), r.Str(), r.Str(), r.U8(), r.Str());
    }

    private static RefuseReason Reason(byte b) =>
        Enum.IsDefined((RefuseReason)b) ? (RefuseReason)b : throw new ProtocolException($"unknown refusal reason {b}");

    private ref struct Writer(Span<byte> span)
    {
        private readonly Span<byte> _span = span;
        public int Written { get; private set; }

        public void U8(byte v) => _span[Written++] = v;
        public void U64(ulong v) { BinaryPrimitives.WriteUInt64BigEndian(_span[Written..], v); Written += 8; }
        public void Guid(Guid g) { g.TryWriteBytes(_span[Written..], bigEndian: true, out _); Written += 16; }
        public void Str(string s)
        {
            var n = StrictUtf8.GetByteCount(s);
            if (n > MaxString) throw new ArgumentException($"'{s[..20]}...' is longer than {MaxString} bytes");
            U8((byte)n);
            Written += StrictUtf8.GetBytes(s, _span[Written..]);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> span, FrameType type)
    {
        private readonly ReadOnlySpan<byte> _span = span;
        private int _at;

        private ReadOnlySpan<byte> Take(int n)
        {
            if (_span.Length - _at < n) throw new ProtocolException($"truncated {type} frame: needs {n} more bytes at offset {_at}, has {_span.Length - _at}");
            var s = _span.Slice(_at, n);
            _at += n;
            return s;
        }

        public byte U8() => Take(1)[0];
        public ulong U64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));
        public Guid Guid() => new(Take(16), bigEndian: true);
        public string Str()
        {
            var bytes = Take(U8());
            try { return StrictUtf8.GetString(bytes); }
            catch (DecoderFallbackException) { throw new ProtocolException($"{type} frame holds a string that is not UTF-8"); }
        }
        public readonly void End()
        {
            if (_at != _span.Length) throw new ProtocolException($"{type} frame has {_span.Length - _at} unexpected bytes at its end");
        }
    }
}
