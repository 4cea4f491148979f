using CsCheck;
using Mesh.Transport.Protocol;

namespace Mesh.Transport.Tests;

public sealed class FrameCodecSpec
{
    private static readonly Gen<string> Name = Gen.String[Gen.Char.AlphaNumeric, 0, 60];
    private static readonly Gen<string> AnyText = Gen.String[Gen.Char, 0, 60]
        .Where(s => !s.Any(char.IsSurrogate));   // lone surrogates are not encodable UTF-8

    private static readonly Gen<Frame> AnyFrame = Gen.OneOf<Frame>(
        Gen.Select(Gen.Byte, Name, Gen.Enum<LinkPurpose>(), (v, n, p) => (Frame)new Hello(v, n, v >= 2 ? p : LinkPurpose.Pool)),
        Gen.Select(Gen.Byte, AnyText, (r, m) => (Frame)new HelloRefused(r, m)),
        Gen.Select(Gen.Byte, Name, (v, n) => (Frame)new HelloAck(v, n)),
        Gen.ULong.Select(n => (Frame)new Ping(n)),
        Gen.ULong.Select(n => (Frame)new Pong(n)),
        Gen.Select(Gen.Guid, Name, Name, Gen.Byte, AnyText, Name, (id, s, d, hops, client, origin) => (Frame)new Open(FrameCodec.OpenVersion, id, s, d, hops, client, origin)),
        Gen.Guid.Select(id => (Frame)new Accept(id)),
        Gen.Select(Gen.Guid, Gen.Enum<RefuseReason>(), AnyText, (id, r, m) => (Frame)new Refuse(id, r, m)));

    private static Frame RoundTrip(Frame f)
    {
        var buffer = new byte[FrameCodec.MaxFrame];
        var n = FrameCodec.Encode(f, buffer);
        var (type, length) = FrameCodec.DecodeHeader(buffer);
        Assert.Equal(n - FrameCodec.HeaderSize, length);
        return FrameCodec.Decode(type, buffer.AsSpan(FrameCodec.HeaderSize, length));
    }

    [Fact]
    public void Every_frame_decodes_to_what_was_encoded() =>
        AnyFrame.Sample(f => RoundTrip(f) == f);

    [Fact]
    public void Random_bytes_are_rejected_with_a_protocol_error_or_decode_to_a_frame_never_anything_else() =>
        Gen.Byte.Array[0, 80].Sample(bytes =>
        {
            try
            {
                if (bytes.Length < FrameCodec.HeaderSize) return true;
                var (type, length) = FrameCodec.DecodeHeader(bytes);
                FrameCodec.Decode(type, bytes.AsSpan(FrameCodec.HeaderSize, Math.Min(length, bytes.Length - FrameCodec.HeaderSize)));
                return true;
            }
            catch (ProtocolException) { return true; }
        });

    [Fact]
    public void Every_truncation_of_a_frame_is_a_clear_truncation_error() =>
        AnyFrame.Sample(f =>
        {
            var buffer = new byte[FrameCodec.MaxFrame];
            var n = FrameCodec.Encode(f, buffer);
            var (type, length) = FrameCodec.DecodeHeader(buffer);
            for (var cut = 0; cut < length; cut++)
            {
                var e = Assert.Throws<ProtocolException>(() => FrameCodec.Decode(type, buffer.AsSpan(FrameCodec.HeaderSize, cut)));
                Assert.Contains("truncated", e.Message);
            }
            return n > 0;
        });

    [Fact]
    public void An_oversized_length_is_refused_before_any_payload_is_read()
    {
        var e = Assert.Throws<ProtocolException>(() => FrameCodec.DecodeHeader([(byte)FrameType.Open, 0xff, 0xff]));
        Assert.Equal("oversized Open frame: 65535 bytes, at most 1024", e.Message);
    }

    [Fact]
    public void Plaintext_on_a_link_is_an_unknown_frame_type()
    {
        var e = Assert.Throws<ProtocolException>(() => FrameCodec.DecodeHeader("GET / HTTP/1.1"u8));
        Assert.Contains("unknown frame type 0x47", e.Message);
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        var buffer = new byte[FrameCodec.MaxFrame];
        var n = FrameCodec.Encode(new Ping(7), buffer);
        var e = Assert.Throws<ProtocolException>(() => FrameCodec.Decode(FrameType.Ping, buffer.AsSpan(FrameCodec.HeaderSize, n - FrameCodec.HeaderSize + 1)));
        Assert.Contains("1 unexpected bytes", e.Message);
    }

    [Fact]
    public void An_open_frame_of_an_unknown_version_is_refused_by_name()
    {
        var buffer = new byte[FrameCodec.MaxFrame];
        var n = FrameCodec.Encode(new Open(9, Guid.NewGuid(), "s", "d", 4, "c", "o"), buffer);
        var e = Assert.Throws<ProtocolException>(() => FrameCodec.Decode(FrameType.Open, buffer.AsSpan(FrameCodec.HeaderSize, n - FrameCodec.HeaderSize)));
        Assert.Contains("open frame version 9 is not supported", e.Message);
    }

    [Fact]
    public void A_refusal_text_is_cut_by_utf8_bytes_never_inside_a_character_and_never_throws()
    {
        var message = new string('é', 300);   // 600 UTF-8 bytes; a cut by characters overran the frame's string limit
        var buffer = new byte[FrameCodec.MaxFrame];
        var n = FrameCodec.Encode(new Refuse(Guid.NewGuid(), RefuseReason.NotAllowed, message), buffer);
        var decoded = (Refuse)FrameCodec.Decode(FrameType.Refuse, buffer.AsSpan(FrameCodec.HeaderSize, n - FrameCodec.HeaderSize));
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(decoded.Message) <= FrameCodec.MaxMessageBytes);
        Assert.StartsWith("ééé", decoded.Message);
        Assert.EndsWith("...", decoded.Message);
        Gen.String[Gen.Char, 0, 400].Where(s => !s.Any(char.IsSurrogate)).Sample(s =>
            System.Text.Encoding.UTF8.GetByteCount(FrameCodec.Shorten(s)) <= FrameCodec.MaxMessageBytes);
    }

    [Fact]
    public void Invalid_utf8_in_a_string_is_refused()
    {
        byte[] payload = [1, 2, 0xff, 0xfe];   // Hello: version 1, a 2-byte string that is not UTF-8
        var e = Assert.Throws<ProtocolException>(() => FrameCodec.Decode(FrameType.Hello, payload));
        Assert.Contains("not UTF-8", e.Message);
    }

    [Fact]
    public async Task A_stream_cut_inside_a_frame_is_reported_and_a_clean_end_is_null()
    {
        var buffer = new byte[FrameCodec.MaxFrame];
        var n = FrameCodec.Encode(new Hello(1, "site-a"), buffer);
        var scratch = new byte[FrameCodec.MaxFrame];
        Assert.Null(await FrameIO.ReadAsync(new MemoryStream([]), scratch, default));
        Assert.Equal(new Hello(1, "site-a"), await FrameIO.ReadAsync(new MemoryStream(buffer[..n]), scratch, default));
        var e = await Assert.ThrowsAsync<ProtocolException>(async () => await FrameIO.ReadAsync(new MemoryStream(buffer[..(n - 1)]), scratch, default));
        Assert.Contains("connection closed inside a Hello frame", e.Message);
    }
}
