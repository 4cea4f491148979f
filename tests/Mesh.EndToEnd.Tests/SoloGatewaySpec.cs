using System.Text.Json;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>One real core gateway alone (it hosts the director), owning an echo service and publishing it: its logs and metrics options.</summary>
public sealed class SoloGatewaySpec : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-solo-").FullName;
    private readonly EchoServer _echo = new();
    private readonly int _entry = FreePorts.Next(), _metrics = FreePorts.Next();
    private NodeProcess? _node;
    private TestCertificates Certificates => field ??= new TestCertificates(Path.Combine(_dir, "pki"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private async Task<NodeProcess> StartAsync(params string[] more)
    {
        var (link, cluster) = (FreePorts.Next(), FreePorts.Next());
        var config = Path.Combine(_dir, "mesh.toml");
        await File.WriteAllTextAsync(config, $$"""
            [mesh]
            name = "solo"
            [gateways.core1]
            links = ["127.0.0.1:{{link}}"]
            [services.echo]
            gateway = "core1"
            target = "127.0.0.1:{{_echo.Port}}"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{_entry}}"
            service = "echo"
            """);
        string[] metrics = more.Contains("--metrics") ? [] : ["--metrics", $"127.0.0.1:{FreePorts.Next()}"];
        _node = NodeProcess.Start("core1", _dir, ["--name", "core1", "--listen", $"127.0.0.1:{link}", "--cluster-port", $"{cluster}",
            "--config", config, .. more, .. metrics, .. await Certificates.FlagsFor("core1")]);
        await _node.WaitForEntryListeningAsync($"127.0.0.1:{_entry}", "echo", TestMesh.Ready);
        return _node;
    }

    private async Task FlowAsync(int size)
    {
        var (sent, received, _) = await ClientFlows.RoundTripAsync(await ClientFlows.ConnectAsync(_entry), size);
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task With_log_format_json_every_line_is_one_JSON_object_and_a_flow_that_went_well_logs_nothing()
    {
        var node = await StartAsync("--log-format", "json");
        var before = node.Mark();
        await FlowAsync(64 << 10);
        await node.WaitForOwnedServiceAsync("echo", TimeSpan.FromSeconds(30), up: true);

        var lines = node.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line =>
        {
            var json = JsonDocument.Parse(line).RootElement;   // throws on a line that is not JSON
            Assert.Equal("core1", json.GetProperty("node").GetString());
            Assert.Contains(json.GetProperty("level").GetString(), new[] { "debug", "info", "warning", "error" });
            Assert.True(DateTimeOffset.TryParse(json.GetProperty("time").GetString(), out _));
            Assert.Contains("+00:00\"", line);   // written plainly, not "\u002B00:00"
            Assert.NotEmpty(json.GetProperty("message").GetString()!);
        });
        Assert.Contains(lines, l => l.Contains("\"source\":\"Mesh.Node\"") && l.Contains("core gateway, link ports"));
        Assert.Contains(lines, l => l.Contains("director: route map v1"));
        Assert.DoesNotContain(lines.Skip(before), l => l.Contains("flow to echo"));
    }

    [Fact]
    public async Task Every_text_line_names_the_gateway_and_Akka_says_only_warnings_unless_the_log_level_is_debug()
    {
        var node = await StartAsync();
        await node.WaitForOwnedServiceAsync("echo", TimeSpan.FromSeconds(30), up: true);
        var lines = node.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.StartsWith("core1: [", line));
        Assert.Contains(lines, l => l.Contains("cluster: core1 is up (") && l.Contains("this gateway is a member"));   // Mesh's line for Akka's
        Assert.DoesNotContain(lines, l => l.Contains("[INFO]") && (l.Contains("Cluster Node [") || l.Contains("Remoting started")));
        await node.DisposeAsync();

        var debug = await StartAsync("--log-level", "debug");
        await debug.WaitForLineAsync(l => l.Contains("[INFO]") && l.Contains("Cluster Node ["), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_gateway_without_the_API_serves_metrics_on_its_own_port()
    {
        await StartAsync("--metrics", $"127.0.0.1:{_metrics}");
        await FlowAsync(1000);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_metrics}") };
        string text;
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        do text = await http.GetStringAsync("/metrics");
        while (!(text.Contains("mesh_service_up{service=\"echo\"} 1") && text.Contains("mesh_flows_total{"))   // counted once the tunnel closed
               && DateTime.UtcNow < deadline && await retry.WaitForNextTickAsync());
        Assert.Contains("mesh_flows_total{outcome=\"ok\",service=\"echo\"} 1\n", text);
        Assert.Contains("mesh_bytes_total{direction=\"up\",service=\"echo\"} 1000\n", text);
        Assert.Contains("mesh_service_up{service=\"echo\"} 1", text);
        Assert.Contains("mesh_director_starts_total 1", text);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/v1/services")).StatusCode);   // metrics only, no API
    }
}
