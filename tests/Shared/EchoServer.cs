using System.Net;
using System.Net.Sockets;


namespace Mesh.Tests.Shared;

/// <summary>A real TCP echo service on loopback: sends back every byte, and half-closes after the client does.</summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _accepted;

    public EchoServer()
    {
        _listener.Start(1024);
        _ = AcceptLoop();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Accepted => Volatile.Read(ref _accepted);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket s;
            try { s = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            Interlocked.Increment(ref _accepted);
            _ = Echo(s);
        }
    }

    private async Task Echo(Socket s)
    {
        using (s)
        {
            try
            {
                await using var stream = new NetworkStream(s);
                await stream.CopyToAsync(stream, 64 * 1024, _stop.Token);
                s.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
