using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A gateway keeps file descriptors for its own work (issue 13: 420 anonymous clients on one entry used up a node
/// limited to 400 descriptors; its director could not read its config and its store showed as unreachable). Here
/// an entry whose own limit would let every client in, on a gateway limited to 512 descriptors: past the
/// gateway's cap clients are refused at once, and meanwhile the API answers, a hot reload is applied and stored.
/// </summary>
public sealed class GatewayFullSpec(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const int Limit = 512, Clients = 420;
    private readonly SoloCore _core = new() { FileLimit = Limit };
    private readonly EchoServer _echo = new();
    private readonly int _entry = FreePorts.Next(), _other = FreePorts.Next();

    private string Config(string more = "") => _core.Config($"""
        [services.echo]
        gateway = "core1"
        target = "127.0.0.1:{_echo.Port}"
        [[entries]]
        gateway = "core1"
        listen = "127.0.0.1:{_entry}"
        service = "echo"
        max_connections = 100000
        {more}
        """);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _core.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Past_the_gateways_cap_clients_are_refused_while_the_api_reloads_and_the_store_keep_working()
    {
        var node = await _core.StartAsync(Config());
        var said = await node.WaitForLineAsync(l => l.Contains("file descriptors: limit"), TestMesh.Ready);
        Assert.Contains($"file descriptors: limit {Limit}; client flows at most", said);
        await node.WaitForEntryListeningAsync($"127.0.0.1:{_entry}", "echo", TestMesh.Ready);

        var held = new List<Socket>();
        var refused = 0;
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                Socket? s = null;
                try
                {
                    s = await ClientFlows.ConnectAsync(_entry);
                    await s.SendAsync("x"u8.ToArray());
                    var n = await s.ReceiveAsync(new byte[1]).WaitAsync(TimeSpan.FromSeconds(10));
                    if (n == 1) { held.Add(s); s = null; } else refused++;
                }
                catch (SocketException) { refused++; }   // reset at once
                finally { s?.Dispose(); }
            }
            Assert.True(refused > 0, $"all {Clients} clients were served on a gateway limited to {Limit} descriptors");
            output.WriteLine($"{held.Count} of {Clients} clients served, {refused} refused at once (limit {Limit} descriptors)");
            Assert.True(held.Count >= 20, $"only {held.Count} clients were served");

            using var api = _core.Http();
            var metrics = await api.GetStringAsync("/metrics");
            Assert.Contains($"mesh_entry_refusals_total{{entry=\"127.0.0.1:{_entry}\",reason=\"gateway_full\"}}", metrics);
            // the gateway's own work goes on while the clients are held: a hot reload, read, applied and stored
            await File.WriteAllTextAsync(_core.ConfigPath, Config($"""
                [[entries]]
                gateway = "core1"
                listen = "127.0.0.1:{_other}"
                service = "echo"
                """));
            var config = await api.PollJsonAsync("/v1/config", c => c.GetProperty("revision").GetInt64() == 2, TimeSpan.FromSeconds(15));
            Assert.Equal(2, config.GetProperty("revision").GetInt64());
            await node.WaitForEntryListeningAsync($"127.0.0.1:{_other}", "echo", TimeSpan.FromSeconds(15));
            Assert.DoesNotContain("reload-failed", node.Output);
            Assert.DoesNotContain("Too many open files", node.Output);
        }
        finally { foreach (var s in held) s.Dispose(); }
        Assert.True(await Poll.UntilAsync(() => ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_entry), TimeSpan.FromSeconds(2)),
            TimeSpan.FromSeconds(15)), "the entry does not serve again once the clients left");
    }
}
