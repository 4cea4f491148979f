using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Mesh.Gateway.Health;

/// <summary>
/// The mysql check. A MySQL/MariaDB server speaks first: a handshake packet (protocol 10), or an error packet
/// saying why not. Without a user the greeting is the answer (and the server counts a connection closed before
/// login as aborted). With one, the check logs in as that password-less user and quits with COM_QUIT, as
/// HAProxy's <c>mysql-check user NAME</c> does, so the server logs nothing.
/// </summary>
internal static class MysqlProbe
{
    private const uint LongPassword = 0x1, Protocol41 = 0x200, SecureConnection = 0x8000, PluginAuth = 0x80000;
    private const byte Utf8GeneralCi = 33, ComQuit = 0x01;
    private const int MaxPacket = 16 * 1024;   // a greeting is ~100 bytes, an error a few hundred

    public static async Task<string?> RunAsync(NetworkStream stream, string? user, CancellationToken ct)
    {
        var (sequence, greeting) = await ReadPacketAsync(stream, ct);
        if (greeting[0] == 0xff) return $"mysql refused the connection: {ErrorMessage(greeting)}";
        if (greeting[0] != 10) return $"the server's first packet is not a MySQL handshake (first byte 0x{greeting[0]:x2})";
        if (user is null) return null;
        if (ServerCapabilities(greeting) is not { } server) return "the server's MySQL handshake is truncated";
        if ((server & Protocol41) == 0) return "the server does not speak the MySQL 4.1 protocol, which a login needs";
        await stream.WriteAsync(Packet((byte)(sequence + 1), HandshakeResponse(user, server)), ct);
        for (var round = 0; round < 3; round++)
        {
            var (seq, reply) = await ReadPacketAsync(stream, ct);
            switch (reply[0])
            {
                case 0x00:   // OK: logged in; say goodbye so that the server does not count an aborted client
                    await stream.WriteAsync(Packet(0, [ComQuit]), ct);
                    return null;
                case 0xff:
                    return $"mysql refused user {user}: {ErrorMessage(reply)}";
                case 0xfe:   // auth switch to the plugin the user has: its response for an empty password is empty
                    await stream.WriteAsync(Packet((byte)(seq + 1), []), ct);
                    break;
                case 0x01 when reply is [_, 0x03]:   // caching_sha2_password: fast authentication passed, OK follows
                    break;
                default:
                    return $"mysql asked user {user} for more than an empty password (packet 0x{reply[0]:x2}): the check's user must have none";
            }
        }
        return $"mysql did not finish the login of user {user}";
    }

    /// <summary>HandshakeResponse41: no SSL, no database, an empty auth response (no password), the user name.</summary>
    private static byte[] HandshakeResponse(string user, uint server)
    {
        var capabilities = LongPassword | Protocol41 | (server & (SecureConnection | PluginAuth));
        var head = new byte[32];   // capabilities, max packet size, character set, 23 zero bytes
        BinaryPrimitives.WriteUInt32LittleEndian(head, capabilities);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), MaxPacket);
        head[8] = Utf8GeneralCi;
        // The auth response is one zero byte either way: a length of 0 (secure connection) or an empty NUL-ended string.
        byte[] plugin = (capabilities & PluginAuth) != 0 ? [.. "mysql_native_password"u8, 0] : [];
        return [.. head, .. Encoding.UTF8.GetBytes(user), 0, 0, .. plugin];
    }

    /// <summary>The capability flags of a handshake v10, or null if it ends before them.</summary>
    private static uint? ServerCapabilities(byte[] greeting)
    {
        var versionEnd = Array.IndexOf(greeting, (byte)0, 1);
        var at = versionEnd + 1 + 4 + 8 + 1;   // server version, connection id, auth data part 1, filler
        if (versionEnd < 0 || at + 2 > greeting.Length) return null;
        uint low = BinaryPrimitives.ReadUInt16LittleEndian(greeting.AsSpan(at));
        return at + 7 > greeting.Length ? low : low | (uint)BinaryPrimitives.ReadUInt16LittleEndian(greeting.AsSpan(at + 5)) << 16;   // after charset, status
    }

    /// <summary>An error packet's message: after 0xff, the error code and, from 4.1 on, '#' and a 5-character SQL state.</summary>
    private static string ErrorMessage(byte[] err)
    {
        var at = err.Length > 3 && err[3] == '#' ? 9 : 3;
        return at >= err.Length ? "" : Encoding.UTF8.GetString(err, at, Math.Min(err.Length - at, 512));
    }

    private static byte[] Packet(byte sequence, byte[] payload) =>
        [(byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), sequence, .. payload];

    private static async Task<(byte Sequence, byte[] Payload)> ReadPacketAsync(NetworkStream stream, CancellationToken ct)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, ct);
        var length = header[0] | header[1] << 8 | header[2] << 16;
        if (length is < 1 or > MaxPacket)
            throw new IOException($"a packet of {length} bytes is not what a MySQL server sends here (first byte 0x{header[0]:x2})");
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, ct);
        return (header[3], payload);
    }
}
