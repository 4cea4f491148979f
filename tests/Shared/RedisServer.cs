using System.Diagnostics;
using System.Net.Sockets;

namespace Mesh.Tests.Shared;

/// <summary>
/// A real redis-server on a free loopback port, which a test can stop and start again (same port, no
/// persistence). ./test.sh installs redis-server when run as root; elsewhere the tests that need it are
/// skipped with the reason.
/// </summary>
/// <param name="password">requirepass: clients must AUTH with it</param>
public sealed class RedisServer(string? password = null) : IAsyncDisposable
{
    public static string? Binary => new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public static string? WhyUnavailable => Binary is null ? "redis-server is not installed (./test.sh installs it with apt-get when run as root)" : null;

    private Process? _process;

    public int Port { get; } = FreePorts.Next();

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(Binary!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", $"{Port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" }) start.ArgumentList.Add(a);
        if (password is not null) foreach (var a in new[] { "--requirepass", password }) start.ArgumentList.Add(a);
        _process = Process.Start(start)!;
        var started = _process;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { started.Kill(); } catch (InvalidOperationException) { } };   // outlives no test run
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (await retry.WaitForNextTickAsync(timeout.Token))
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port, timeout.Token);
                return;
            }
            catch (SocketException) { }
        }
    }

    /// <summary>Kills the server outright; its data is gone (it keeps none on disk).</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>A test that needs redis-server: skipped, with the reason, where it is not installed.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.WhyUnavailable is { } why) Skip = why;
    }
}
