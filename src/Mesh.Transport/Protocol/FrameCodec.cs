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
    /// <summary>2: Hello carries the connection's purpose, Open its origin; Control and HelloRefused frames.</summary>
    public const byte ProtocolVersion = 2;
    public const byte OpenVersion = 2;
    public const int HeaderSize = 3;
    public const int MaxPayload = 1024;
    public const int MaxFrame = HeaderSize + MaxPayload;
    public const int MaxString = 255;
    /// <summary>The largest Data (and Control) frame: a 64 KiB buffer holds the header and the bytes.</summary>
    public const int MaxData = 64 * 1024 - HeaderSize;
    /// <summary>Texts a peer reads in a log (refusals, aborts) are cut to this many UTF-8 bytes.</summary>
    public const int MaxMessageBytes = 200;

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>Encodes <paramref name="frame"/> into <paramref name="buffer"/>; returns the bytes used.</summary>
    public static int Encode(Frame frame, Span<byte> buffer)
    {
        var w = new Writer(buffer[HeaderSize..]);
        switch (frame)
        {
            case Hello h:
                w.U8(h.Version); w.Str(h.Gateway);
                if (h.Version >= 2) w.U8((byte)h.Purpose);   // a version-1 Hello had no purpose
                break;
            case HelloRefused h: w.U8(h.Reason); w.Str(Shorten(h.Message)); break;
            case HelloAck h: w.U8(h.Version); w.Str(h.Gateway); break;
            case Ping p: w.U64(p.Nonce); break;
            case Pong p: w.U64(p.Nonce); break;
            case Open o: w.U8(o.Version); w.Guid(o.FlowId); w.Str(o.Service); w.Str(o.Destination); w.U8(o.HopBudget); w.Str(o.ClientAddress); w.Str(o.Origin); break;
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

    /// <summary>Cuts a text to <see cref="MaxMessageBytes"/> UTF-8 bytes, never inside a character (a cut by chars overran with multi-byte text).</summary>
    public static string Shorten(string message)
    {
        if (StrictUtf8.GetByteCount(message) <= MaxMessageBytes) return message;
        var length = 0;
        var bytes = 0;
        foreach (var rune in message.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > MaxMessageBytes - 3) break;   // room for "..."
            bytes += rune.Utf8SequenceLength;
            length += rune.Utf16SequenceLength;
        }
        return message[..length] + "...";
    }

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
        var max = type is FrameType.Data or FrameType.Control ? MaxData : MaxPayload;
        if (length > max) throw new ProtocolException($"oversized {type} frame: {length} bytes, at most {max}");
        return (type, length);
    }

    public static Frame Decode(FrameType type, ReadOnlySpan<byte> payload)
    {
        var r = new Reader(payload, type);
        Frame frame = type switch
        {
            FrameType.Hello => DecodeHello(ref r),
            FrameType.HelloRefused => new HelloRefused(r.U8(), r.Str()),
            FrameType.HelloAck => new HelloAck(r.U8(), r.Str()),
            FrameType.Ping => new Ping(r.U64()),
            FrameType.Pong => new Pong(r.U64()),
            FrameType.Open => DecodeOpen(ref r),
            FrameType.Accept => new Accept(r.Guid()),
            FrameType.Refuse => new Refuse(r.Guid(), Reason(r.U8()), r.Str()),
            FrameType.End => End.Instance,
            FrameType.Abort => new Abort(r.Str()),
            FrameType.Data => throw new ProtocolException("a Data frame outside a flow"),
            FrameType.Control => throw new ProtocolException("a Control frame outside a control connection"),
            _ => throw new ProtocolException($"unknown frame type 0x{(byte)type:x2}"),
        };
        r.End();
        return frame;
    }

    private static Open DecodeOpen(ref Reader r)
    {
        var version = r.U8();
        if (version != OpenVersion) throw new ProtocolException($"open frame version {version} is not supported (this gateway speaks {OpenVersion})");
        return new Open(version, r.Guid(), r.Str(), r.Str(), r.U8(), r.Str(), r.Str());
    }

    /// <summary>A version-1 Hello (no purpose) still decodes, so that the acceptor can say which versions differ.</summary>
    private static Hello DecodeHello(ref Reader r)
    {
        var version = r.U8();
        var gateway = r.Str();
        if (version < 2) return new Hello(version, gateway);
        var purpose = (LinkPurpose)r.U8();
        if (!Enum.IsDefined(purpose)) throw new ProtocolException($"unknown link purpose {(byte)purpose} in Hello");
        return new Hello(version, gateway, purpose);
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
            if (n > MaxString) throw new ArgumentException($"a string of {n} UTF-8 bytes is longer than the {MaxString} a frame carries");
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
        public readonly bool AtEnd => _at == _span.Length;

        public readonly void End()
        {
            if (_at != _span.Length) throw new ProtocolException($"{type} frame has {_span.Length - _at} unexpected bytes at its end");
        }
    }
}
