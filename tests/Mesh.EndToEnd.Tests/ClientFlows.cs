using System.Net.Sockets;
using System.Security.Cryptography;

namespace Mesh.EndToEnd.Tests;

/// <summary>What a client application does through an entry, and what it can check: every byte back, unchanged.</summary>
public static class ClientFlows
{
    /// <summary>An app's connection to an entry on this machine.</summary>
    public static async Task<Socket> ConnectAsync(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(System.Net.IPAddress.Loopback, port);
        return s;
    }

    /// <summary>
    /// Sends <paramref name="size"/> random bytes on <paramref name="s"/> (an echo service at the far end)
    /// while reading the echo at the same time, half-closes, and returns the hashes of both directions.
    /// </summary>
    public static async Task<(string Sent, string Received, long ReceivedBytes)> RoundTripAsync(Socket s, long size, CancellationToken ct = default)
    {
        using var _ = s;
        await using var stream = new NetworkStream(s);
        using var sentHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var receivedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var send = Task.Run(async () =>
        {
            var chunk = new byte[1 << 20];
            for (long left = size; left > 0; left -= chunk.Length)
            {
                var n = (int)Math.Min(chunk.Length, left);
                RandomNumberGenerator.Fill(chunk.AsSpan(0, n));
                sentHash.AppendData(chunk, 0, n);
                await stream.WriteAsync(chunk.AsMemory(0, n), ct);
            }
            s.Shutdown(SocketShutdown.Send);   // half-close: the reply must still arrive whole
        }, ct);
        long received = 0;
        var buffer = new byte[1 << 16];
        int got;
        while ((got = await stream.ReadAsync(buffer, ct)) > 0)
        {
            receivedHash.AppendData(buffer, 0, got);
            received += got;
        }
        await send;
        return (Convert.ToHexString(sentHash.GetHashAndReset()), Convert.ToHexString(receivedHash.GetHashAndReset()), received);
    }

    /// <summary>One small flow, as a health check would do it: true if 4 KiB came back intact within <paramref name="timeout"/>.</summary>
    public static async Task<bool> EchoesAsync(Func<Task<Socket>> connect, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var (sent, received, bytes) = await RoundTripAsync(await connect().WaitAsync(cts.Token), 4096, cts.Token);
            return bytes == 4096 && sent == received;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or TimeoutException) { return false; }
    }

    /// <summary>
    /// Tries a small flow (<see cref="EchoesAsync"/>) every quarter second until one comes back whole, and returns
    /// how long that took; null if none did within <paramref name="limit"/>.
    /// </summary>
    public static async Task<TimeSpan?> FirstEchoAsync(Func<Task<Socket>> connect, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        while (clock.Elapsed < limit)
        {
            if (await EchoesAsync(connect, TimeSpan.FromSeconds(2))) return clock.Elapsed;
            await retry.WaitForNextTickAsync();
        }
        return null;
    }
}
