using System.Net;
using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Two gateways on one host cannot share a port (issue 14: two core gateways both listened on 4053, the
/// second formed a cluster of its own and wrote into the first one's store). The second exits 2 with one
/// line naming the port and the flag; the first goes on as if nothing happened.
/// </summary>
public sealed class ExclusivePortsSpec : IAsyncLifetime
{
    private readonly SoloCore _first = new();
    private readonly int _metrics = FreePorts.Next(), _dns = FreePorts.Next();

    public async Task InitializeAsync() =>
        await _first.StartAsync(_first.Config(""), "--metrics", $"127.0.0.1:{_metrics}", "--dns", $"127.0.0.1:{_dns}");

    public async Task DisposeAsync() => await _first.DisposeAsync();

    [Theory]
    [InlineData("--cluster-port")]
    [InlineData("--listen")]
    [InlineData("--api")]
    [InlineData("--metrics")]
    [InlineData("--dns")]
    public async Task A_second_gateway_on_a_taken_port_exits_2_naming_the_port_and_the_flag(string flag)
    {
        var taken = flag switch
        {
            "--cluster-port" => _first.ClusterPort, "--listen" => _first.Link, "--api" => _first.ApiPort, "--dns" => _dns, _ => _metrics,
        };
        int Port(string f) => f == flag ? taken : FreePorts.Next();
        var token = Path.Combine(_first.Dir, "admin.token");
        string[] args = ["--name", "core2", "--listen", $"127.0.0.1:{Port("--listen")}", "--cluster-port", $"{Port("--cluster-port")}",
            "--join", $"127.0.0.1:{_first.ClusterPort}", "--api", $"127.0.0.1:{Port("--api")}", "--api-token-file", token,
            "--metrics", $"127.0.0.1:{Port("--metrics")}", "--dns", $"127.0.0.1:{Port("--dns")}", "--state-dir", Path.Combine(_first.Dir, "state2"),
            .. await _first.Certificates.FlagsFor("core2", core: true)];

        var (code, output) = await NodeProcess.RunAsync(args);

        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"{flag} 127.0.0.1:{taken}: the port is in use", line);
        using var api = _first.Http();
        var cluster = await api.GetJsonAsync("/v1/cluster");
        Assert.Equal(1, cluster.GetProperty("members").GetArrayLength());   // nobody joined, nothing was shared
        Assert.Equal(1, (await api.GetJsonAsync("/v1/config")).GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task An_entry_whose_port_is_taken_says_so_and_listens_once_it_is_free()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        await using var echo = new EchoServer();
        var mark = _first.Node.Mark();
        await File.WriteAllTextAsync(_first.ConfigPath, _first.Config($"""
            [services.echo]
            gateway = "core1"
            target = "127.0.0.1:{echo.Port}"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{port}"
            service = "echo"
            """));

        await _first.Node.WaitForLineAsync(l => l.Contains($"127.0.0.1:{port}") && l.Contains("AddressAlreadyInUse"), TestMesh.Ready, mark);   // says why it refuses
        holder.Stop();
        await _first.Node.WaitForEntryListeningAsync($"127.0.0.1:{port}", "echo", TimeSpan.FromSeconds(30));
        Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(port), TimeSpan.FromSeconds(10)));
    }
}
