using System.Net;
using System.Net.Sockets;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Health;
using Mesh.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Mesh.Gateway.Tests;

/// <summary>Each kind of check against real servers: redis-server, an HTTP server (Kestrel), plain sockets.</summary>
public sealed class HealthProbeSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);   // ample: a JIT or a busy core must not fail a probe that should pass
    private readonly EchoServer _echo = new();
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _held = [];

    private static CheckSpec Check(string kind, string? path = null, TimeSpan? timeout = null) =>
        new(kind, TimeSpan.FromSeconds(1), timeout ?? Timeout, 2, 3, path);

    private static Task<string?> Probe(string kind, int port, string? path = null, TimeSpan? timeout = null) =>
        HealthProbe.RunAsync(Check(kind, path, timeout), $"127.0.0.1:{port}", CancellationToken.None);

    public Task InitializeAsync()
    {
        _silent.Start();
        _ = HoldSilently();
        return Task.CompletedTask;
    }

    /// <summary>Accepts every connection and never says a word.</summary>
    private async Task HoldSilently()
    {
        try { while (true) _held.Add(await _silent.AcceptSocketAsync()); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { }   // stopped
    }

    private int SilentPort => ((IPEndPoint)_silent.LocalEndpoint).Port;

    public async Task DisposeAsync()
    {
        _silent.Stop();
        foreach (var s in _held) s.Dispose();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Tcp_is_up_when_the_port_accepts_and_down_naming_the_refusal_when_it_does_not()
    {
        Assert.Null(await Probe("tcp", _echo.Port));
        Assert.Null(await Probe("tcp", SilentPort));
        var closed = FreePorts.Next();
        Assert.Contains("connection refused", await Probe("tcp", closed));
    }

    [RedisFact]
    public async Task Redis_is_up_while_redis_server_answers_PING_and_down_once_it_is_killed()
    {
        await using var redis = new RedisServer();
        await redis.StartAsync();
        Assert.Null(await Probe("redis", redis.Port));
        await redis.StopAsync();
        Assert.Contains("connection refused", await Probe("redis", redis.Port));
    }

    [RedisFact]
    public async Task Redis_with_a_password_is_down_naming_NOAUTH_without_one_and_up_with_AUTH_from_the_gateways_environment()
    {
        await using var redis = new RedisServer(password: "s3cret");
        await redis.StartAsync();
        Assert.StartsWith("redis answered PING with \"-NOAUTH", await Probe("redis", redis.Port));
        var target = $"127.0.0.1:{redis.Port}";
        var env = $"MESH_TEST_REDIS_PASSWORD_{redis.Port}";
        var check = Check("redis") with { PasswordEnv = env };
        Assert.Equal($"{env} is not set on this gateway (the check's password_env)", await HealthProbe.RunAsync(check, target, CancellationToken.None));
        Environment.SetEnvironmentVariable(env, "wrong");
        Assert.StartsWith($"redis refused AUTH with the password in {env}: \"-WRONGPASS", await HealthProbe.RunAsync(check, target, CancellationToken.None));
        Environment.SetEnvironmentVariable(env, "s3cret");
        Assert.Null(await HealthProbe.RunAsync(check, target, CancellationToken.None));
    }

    [Fact]
    public async Task A_port_that_accepts_but_never_speaks_is_up_for_tcp_and_down_by_timeout_for_redis_and_mysql()
    {
        // 2 s: the connect itself must not time out on a busy machine (tests run in parallel on 2 cores)
        var timeout = TimeSpan.FromSeconds(2);
        Assert.Null(await Probe("tcp", SilentPort, timeout: timeout));
        Assert.Equal($"no redis answer from 127.0.0.1:{SilentPort} within 2s", await Probe("redis", SilentPort, timeout: timeout));
        Assert.Equal($"no mysql answer from 127.0.0.1:{SilentPort} within 2s", await Probe("mysql", SilentPort, timeout: timeout));
    }

    [Fact]
    public async Task Redis_check_of_a_service_that_is_not_redis_names_what_it_answered()
    {
        Assert.Equal("redis answered PING with \"*1\"", await Probe("redis", _echo.Port));   // an echo sends the command back
    }

    [Fact]
    public async Task Http_is_up_for_2xx_and_3xx_and_down_naming_the_status_otherwise_while_tcp_stays_up()
    {
        await using var web = await StartWebAsync();
        Assert.Null(await Probe("http", web.Port, "/ok"));
        Assert.Null(await Probe("http", web.Port, "/moved"));
        Assert.Equal("GET /broken answered 500 Internal Server Error", await Probe("http", web.Port, "/broken"));
        Assert.Equal("GET /nosuch answered 404 Not Found", await Probe("http", web.Port, "/nosuch"));
        Assert.Null(await Probe("tcp", web.Port));
    }

    [Fact]
    public async Task Mysql_is_up_when_the_server_greets_and_down_with_the_servers_words_when_it_refuses()
    {
        await using var greeter = new Greeter([.. Packet(0, [10, .. "8.0.36\0"u8.ToArray(), 1, 0, 0, 0])]);
        Assert.Null(await Probe("mysql", greeter.Port));
        await using var refuser = new Greeter([.. Packet(0, [0xff, 0x10, 0x04, .. "Too many connections"u8.ToArray()])]);
        Assert.Equal("mysql refused the connection: Too many connections", await Probe("mysql", refuser.Port));
    }

    private static byte[] Packet(byte sequence, byte[] payload) =>
        [(byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), sequence, .. payload];

    /// <summary>Sends fixed bytes to each client as it connects, as a MySQL server sends its greeting.</summary>
    private sealed class Greeter : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Task _loop;

        public Greeter(byte[] greeting)
        {
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using var s = await _listener.AcceptSocketAsync();
                        await s.SendAsync(greeting);
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { }   // stopped
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _loop;
        }
    }

    private sealed record Web(WebApplication App, int Port) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private static async Task<Web> StartWebAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/ok", () => "fine");
        app.MapGet("/moved", () => Results.Redirect("/ok"));
        app.MapGet("/broken", () => Results.StatusCode(500));
        await app.StartAsync();
        return new Web(app, port);
    }
}
