using System.Net.Sockets;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A long-lived flow, like an app's connection pool: sends a chunk every few milliseconds to an echo
/// service and checks every byte that comes back against what was sent (both from one seeded stream).
/// </summary>
public sealed class SteadyFlow : IDisposable
{
    private const int Chunk = 16 * 1024, Seed = 20261128;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopSending = new();
    private readonly Task _sending, _receiving;
    private long _sent, _echoed;
    private volatile bool _intact = true;
    private readonly Lock _gate = new();
    private readonly List<(long Bytes, TaskCompletionSource Reached)> _waiters = [];

    private SteadyFlow(Socket socket)
    {
        _socket = socket;
        _sending = Task.Run(SendAsync);
        _receiving = Task.Run(ReceiveAsync);
    }

    public static Task<SteadyFlow> StartAsync(Socket connected) => Task.FromResult(new SteadyFlow(connected));

    public bool Intact => _intact;

    /// <summary>Completes when the echo stops coming: the far side closed or reset the flow (the value: reset).</summary>
    public Task<bool> Ended => _receiving.ContinueWith(t => t.IsFaulted, TaskScheduler.Default);

    private async Task SendAsync()
    {
        var random = new Random(Seed);
        var chunk = new byte[Chunk];
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        try
        {
            while (await pace.WaitForNextTickAsync(_stopSending.Token))
            {
                random.NextBytes(chunk);
                await _socket.SendAsync(chunk, SocketFlags.None, _stopSending.Token);
                Interlocked.Add(ref _sent, Chunk);
            }
        }
        catch (OperationCanceledException) { }
        _socket.Shutdown(SocketShutdown.Send);
    }

    private async Task ReceiveAsync()
    {
        var expected = new Random(Seed);
        var want = new byte[Chunk];
        var wantAt = Chunk;   // all of `want` used: generate the next chunk first
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await _socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            for (var i = 0; i < n; i++)
            {
                if (wantAt == Chunk) { expected.NextBytes(want); wantAt = 0; }
                if (buffer[i] != want[wantAt++]) _intact = false;
            }
            var echoed = Interlocked.Add(ref _echoed, n);
            lock (_gate)
                foreach (var w in _waiters.Where(w => echoed >= w.Bytes).ToList())
                {
                    _waiters.Remove(w);
                    w.Reached.TrySetResult();
                }
        }
        // The end of the stream: a FIN, or a reset whose error our sending side consumed first (Linux reports a
        // connection's error to one call only; the next recv then reads 0). One more byte tells them apart: after a
        // FIN the socket still sends, after a reset it cannot.
        if (_stopSending.IsCancellationRequested) return;   // we half-closed: the end is ours
        try { _socket.Send(new byte[1]); }
        catch (SocketException e) when (e.SocketErrorCode != SocketError.Shutdown)
        {
            throw new SocketException((int)SocketError.ConnectionReset);
        }
    }

    /// <summary>Waits until <paramref name="bytes"/> came back (the flow is running).</summary>
    public Task WaitForBytesAsync(long bytes)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (Interlocked.Read(ref _echoed) >= bytes) return Task.CompletedTask;
            _waiters.Add((bytes, reached));
        }
        return reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Stops sending, half-closes, reads the echo to its end; returns what was sent and what came back.</summary>
    public async Task<(long Sent, long Echoed)> StopAsync()
    {
        _stopSending.Cancel();
        await _sending;
        try { await _receiving.WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (SocketException) { }   // reset: the counts say how far it got
        return (Interlocked.Read(ref _sent), Interlocked.Read(ref _echoed));
    }

    public void Dispose()
    {
        _stopSending.Cancel();
        _socket.Dispose();
    }
}
