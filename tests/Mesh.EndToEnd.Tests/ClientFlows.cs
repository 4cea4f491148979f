using System.Diagnostics;
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

    /// <summary>Sends <paramref name="size"/> random bytes on a flow that stays open and reads them back: true if they came back unchanged.</summary>
    public static async Task<bool> EchoOnceAsync(Socket s, int size, CancellationToken ct)
    {
        var sent = RandomNumberGenerator.GetBytes(size);
        var back = new byte[size];
        await s.SendAsync(sent, SocketFlags.None, ct);
        for (int got = 0, n; got < size; got += n)
            if ((n = await s.ReceiveAsync(back.AsMemory(got), SocketFlags.None, ct)) == 0) return false;
        return sent.AsSpan().SequenceEqual(back);
    }

    /// <summary>What an app saw of its flow's end: nothing (still open), an error or reset, or a clean end (FIN).</summary>
    public enum EndSeen { StillOpen, Error, CleanEnd }

    public sealed record Ending(EndSeen Seen, string How, TimeSpan At)
    {
        public override string ToString() => $"{How} at {At.TotalSeconds:0.0}s";
    }

    /// <summary>
    /// Reads <paramref name="s"/> until its flow ends, as an app whose flow just lost its path would: while
    /// <paramref name="writing"/>, it also writes 1 KiB every 250 ms (an app that keeps sending); otherwise it
    /// only waits for a reply. Gives up when <paramref name="clock"/> passes <paramref name="limit"/>; the
    /// ending is stamped with <paramref name="clock"/>.
    /// </summary>
    public static async Task<Ending> EndingAsync(Socket s, bool writing, Stopwatch clock, TimeSpan limit)
    {
        using var stop = new CancellationTokenSource(limit - clock.Elapsed);
        var watched = new List<Task<(EndSeen, string)>> { ReadToEndAsync(s, stop.Token) };
        if (writing) watched.Add(WriteEveryAsync(s, TimeSpan.FromMilliseconds(250), stop.Token));
        var (seen, how) = await await Task.WhenAny(watched);
        var at = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(watched);
        return new Ending(seen, how, at);
    }

    private static async Task<(EndSeen, string)> ReadToEndAsync(Socket s, CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        try
        {
            while (await s.ReceiveAsync(buffer, SocketFlags.None, ct) > 0) { }
            return (EndSeen.CleanEnd, "a clean end (read 0 bytes: FIN)");
        }
        catch (SocketException e) { return (EndSeen.Error, $"reading: {e.SocketErrorCode} ({e.Message})"); }
        catch (OperationCanceledException) { return (EndSeen.StillOpen, "still open, nothing read"); }
    }

    private static async Task<(EndSeen, string)> WriteEveryAsync(Socket s, TimeSpan every, CancellationToken ct)
    {
        using var pace = new PeriodicTimer(every);
        var chunk = new byte[1024];
        long written = 0;
        try
        {
            while (await pace.WaitForNextTickAsync(ct)) written += await s.SendAsync(chunk, SocketFlags.None, ct);
        }
        catch (SocketException e) { return (EndSeen.Error, $"writing, after {written} bytes: {e.SocketErrorCode} ({e.Message})"); }
        catch (OperationCanceledException) { }
        return (EndSeen.StillOpen, $"still open, {written} bytes written");
    }
}
