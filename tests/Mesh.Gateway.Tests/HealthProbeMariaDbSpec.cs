using Mesh.Contracts.Routing;
using Mesh.Gateway.Health;

namespace Mesh.Gateway.Tests;

/// <summary>
/// The mysql check against a real MariaDB server: with a user it logs in and quits, so the server neither
/// counts nor logs an aborted connection; without one it reads the greeting, which the server logs every probe.
/// </summary>
public sealed class HealthProbeMariaDbSpec : IAsyncLifetime
{
    private const string Aborted = "Aborted connection";
    private readonly MariaDbServer _server = new();

    public Task InitializeAsync() => MariaDbServer.WhyUnavailable is null ? _server.StartAsync() : Task.CompletedTask;
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<string?> Probe(string? user) =>
        HealthProbe.RunAsync(new CheckSpec("mysql", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), 2, 3, null, User: user),
            $"127.0.0.1:{_server.Port}", CancellationToken.None);

    [MariaDbFact]
    public async Task With_a_user_each_probe_logs_in_and_quits_and_the_server_counts_and_logs_no_aborted_connection()
    {
        for (var i = 0; i < 5; i++) Assert.Null(await Probe(MariaDbServer.CheckUser));
        Assert.True(await _server.IdleAsync(), "the probes' connections are still open on the server");
        var aborted = File.ReadLines(_server.ErrorLog).Where(l => l.Contains(Aborted)).ToList();
        Assert.True(aborted.Count == 0, $"the server logged the probes as aborted:\n{string.Join("\n", aborted)}");
        Assert.Equal((0, 0), (await _server.StatusAsync("Aborted_connects"), await _server.StatusAsync("Aborted_clients")));
        Assert.Equal((5, 0), await _server.UserConnectionsAsync(MariaDbServer.CheckUser));   // 5 logins, none ended without COM_QUIT
    }

    [MariaDbFact]
    public async Task Without_a_user_it_is_up_on_the_greeting_and_the_server_logs_each_probe_as_an_aborted_connection()
    {
        for (var i = 0; i < 3; i++) Assert.Null(await Probe(null));
        Assert.True(await _server.IdleAsync(), "the probes' connections are still open on the server");
        Assert.Equal(3, await _server.StatusAsync("Aborted_connects"));
        Assert.Equal(3, File.ReadLines(_server.ErrorLog).Count(l =>   // the line docs/config.md quotes
            l.Contains("[Warning] Aborted connection") && l.Contains("user: 'unauthenticated'") && l.Contains("closed normally without authentication")));
    }

    [MariaDbFact]
    public async Task A_user_the_server_refuses_is_down_with_the_servers_reason()
    {
        Assert.Equal("mysql refused user nosuchuser: Access denied for user 'nosuchuser'@'127.0.0.1' (using password: NO)", await Probe("nosuchuser"));
        Assert.Equal($"mysql refused user {MariaDbServer.PasswordUser}: Access denied for user '{MariaDbServer.PasswordUser}'@'127.0.0.1' (using password: NO)",
            await Probe(MariaDbServer.PasswordUser));
    }

    [MariaDbFact]
    public async Task A_password_less_user_of_another_auth_plugin_is_logged_in_after_the_servers_auth_switch()
    {
        Assert.Null(await Probe(MariaDbServer.OtherPluginUser));
        Assert.True(await _server.IdleAsync(), "the probe's connection is still open on the server");
        Assert.Equal((1, 0), await _server.UserConnectionsAsync(MariaDbServer.OtherPluginUser));
    }
}
