using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mesh.EndToEnd.Tests.Sites;

namespace Mesh.EndToEnd.Tests.Seed;

/// <summary>
/// A real program (redis-server) running inside a network namespace through `ip netns exec` (which execs
/// it: the process id is the program's own), whose output lines can be awaited.
/// </summary>
public sealed class NsProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();

    public NsProcess(string name, string netns, string file, params string[] args)
    {
        Name = name;
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", netns, file }.Concat(args)) start.ArgumentList.Add(a);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Start();
        var started = _process;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { started.Kill(); } catch (InvalidOperationException) { } };   // outlives no test run
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int Pid => _process.Id;

    public string Output { get { lock (_gate) return string.Join("\n", _lines); } }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_gate) _lines.Add(line);
    }

    /// <summary>Waits until a line matches (polled: these programs print a handful of lines), or the process exits.</summary>
    public async Task WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (deadline.Elapsed < timeout)
        {
            lock (_gate) if (_lines.Any(match)) return;
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}):\n{Output}");
            await poll.WaitForNextTickAsync();
        }
        throw new TimeoutException($"{Name}: no matching line within {timeout.TotalSeconds:0}s; output:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>
/// "app", the seed's REST app server, played by the test: a minimal HTTP/1.1 server on a socket opened in
/// site-a's namespace. GET /health answers 200 (the health check); GET / answers 200 with <see cref="Body"/>;
/// anything else 404. One request per connection (Connection: close).
/// </summary>
public sealed class SeedApp : IAsyncDisposable
{
    public const string Body = "hello from app at site-a\n";
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _pages, _healthChecks;

    public SeedApp(string netns, IPEndPoint at)
    {
        _listener = NetNs.Listen(netns, at);
        _accepting = AcceptAsync();
    }

    /// <summary>Requests for "/" served so far (health checks not counted).</summary>
    public int Pages => Volatile.Read(ref _pages);
    public int HealthChecks => Volatile.Read(ref _healthChecks);

    private async Task AcceptAsync()
    {
        try
        {
            while (true) _ = ServeAsync(await _listener.AcceptAsync(_stop.Token));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        try
        {
            await using var stream = new NetworkStream(client);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var head = await Http.ReadHeadAsync(stream, timeout.Token);
            var parts = head?.Split("\r\n")[0].Split(' ');
            var (status, body) = parts is ["GET", "/health", ..] ? ("200 OK", "ok\n")
                : parts is ["GET", "/", ..] ? ("200 OK", Body)
                : ("404 Not Found", "not found\n");
            if (parts is ["GET", "/health", ..]) Interlocked.Increment(ref _healthChecks);
            else if (parts is ["GET", "/", ..]) Interlocked.Increment(ref _pages);
            var bytes = Encoding.ASCII.GetBytes(body);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n"), timeout.Token);
            await stream.WriteAsync(bytes, timeout.Token);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        _stop.Dispose();
    }
}

/// <summary>What an HTTP client does through an entry: one GET, the status line and the body.</summary>
public static class Http
{
    /// <summary>Reads up to the blank line that ends an HTTP head; null if the peer closed first.</summary>
    public static async Task<string?> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (head.Length < 16 << 10)
        {
            if (await stream.ReadAsync(one, ct) == 0) return null;
            head.Append((char)one[0]);
            if (head.Length >= 4 && head[^1] == '\n' && head.ToString(head.Length - 4, 4) == "\r\n\r\n") return head.ToString();
        }
        return head.ToString();
    }

    /// <returns>the status line ("HTTP/1.1 200 OK") and the body</returns>
    public static async Task<(string Status, string Body)> GetAsync(Socket socket, string host, string path, CancellationToken ct = default)
    {
        using var _ = socket;
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: seed-suite\r\nConnection: close\r\n\r\n"), ct);
        var head = await ReadHeadAsync(stream, ct) ?? throw new IOException($"GET {path}: the connection closed before an answer");
        using var body = new MemoryStream();
        await stream.CopyToAsync(body, ct);   // Connection: close: the body ends with the stream
        return (head.Split("\r\n")[0], Encoding.UTF8.GetString(body.ToArray()));
    }
}

/// <summary>What a redis client does: RESP commands over a socket, one reply line each (simple strings, errors, bulk strings).</summary>
public sealed class Resp(Socket socket) : IDisposable
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: true);

    /// <returns>"+PONG", "+OK", "-ERR …", or a bulk string's content ("$-1" for nil)</returns>
    public async Task<string> CommandAsync(CancellationToken ct, params string[] args)
    {
        var request = new StringBuilder($"*{args.Length}\r\n");
        foreach (var a in args) request.Append($"${Encoding.UTF8.GetByteCount(a)}\r\n{a}\r\n");
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), ct);
        var line = await ReadLineAsync(ct);
        if (!line.StartsWith('$') || line == "$-1") return line;
        var data = new byte[int.Parse(line[1..]) + 2];
        await _stream.ReadExactlyAsync(data, ct);
        return Encoding.UTF8.GetString(data, 0, data.Length - 2);
    }

    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            if (await _stream.ReadAsync(one, ct) == 0) throw new IOException($"redis closed the connection after '{line}'");
            if (one[0] == '\n') return line.ToString().TrimEnd('\r');
            line.Append((char)one[0]);
        }
    }

    public void Dispose() => _stream.Dispose();
}
