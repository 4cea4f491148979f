using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>One mesh of real processes for the admin tests (they read it; only the metrics test sends flows).</summary>
public sealed class AdminMesh : IAsyncLifetime
{
    private readonly EchoServer _echo = new();
    public TestMesh Mesh { get; } = new();
    public int EchoPort => _echo.Port;
    public string Api => $"http://127.0.0.1:{Mesh.ApiPort}";

    public async Task InitializeAsync()
    {
        await Mesh.StartAsync(_echo.Port, downPort: FreePorts.Next(), api: true);
        await Mesh.ReadyForFlowsAsync();
        using var http = TestMesh.Http(Api);
        await http.WaitReadyAsync(TestMesh.Ready);
        // the service "down" (nothing listens at its target) is reported down by its owner's first probe
        await http.PollJsonAsync("/v1/services/down", s => s.GetProperty("health").GetString() == "down", TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await Mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }
}

/// <summary>The real `mesh` binary against a running mesh of real processes, through core1's REST API; and /metrics.</summary>
public sealed class AdminSpec(AdminMesh fixture) : IClassFixture<AdminMesh>
{
    private TestMesh _mesh => fixture.Mesh;   // the shared mesh
    private string Api => fixture.Api;

    private Task<MeshCli.Run> Mesh(params string[] args) => MeshCli.RunAsync([.. args, "--api", Api]);

    [Fact]
    public async Task Status_shows_the_mesh_at_a_glance_and_exits_1_while_a_service_is_down()
    {
        var text = await Mesh("status");
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("config    v1 from ", text.Out);
        Assert.Contains("  down    down (owned by core2): ", text.Out);

        var json = await Mesh("status", "--json");
        var status = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal(1, status.GetProperty("revision").GetInt64());
        Assert.True(status.GetProperty("valid").GetBoolean());
        Assert.Equal("down", Assert.Single(status.GetProperty("services").GetProperty("down").EnumerateArray()).GetProperty("service").GetString());
        Assert.StartsWith("akka.ssl.tcp://mesh@127.0.0.1:", status.GetProperty("director").GetString());
    }

    [Fact]
    public async Task Gateways_services_links_routes_and_health_print_tables_and_their_JSON_parses_back()
    {
        var gateways = await Mesh("gateways");
        Assert.Equal(0, gateways.ExitCode);
        Assert.Matches(@"core1\s+core\s+yes", gateways.Out);
        var names = JsonDocument.Parse((await Mesh("gateways", "--json")).Out).RootElement.EnumerateArray().Select(g => g.GetProperty("name").GetString());
        Assert.Equal(["core1", "core2", "edge1", "edge2"], names);

        var services = await Mesh("services");
        Assert.Matches($@"echo\s+edge1\s+127\.0\.0\.1:{fixture.EchoPort}\s+tcp\s+up\s+core1 127\.0\.0\.1:{_mesh.EchoEntry}", services.Out);
        Assert.Equal(4, JsonDocument.Parse((await Mesh("services", "--json")).Out).RootElement.GetArrayLength());

        Assert.Matches(@"core1 <-> edge1\s+\d+", (await Mesh("links")).Out);   // the cost: the round trip in 5 ms steps

        var routes = await Mesh("routes", "edge1");
        Assert.Matches(@"route table v1(\.\d+)? of edge1", routes.Out);
        Assert.Matches($@"127\.0\.0\.1:{_mesh.Echo2Entry}\s+echo2\s+core2", routes.Out);
        Assert.Equal("edge1", JsonDocument.Parse((await Mesh("routes", "edge1", "--json")).Out).RootElement.GetProperty("gateway").GetString());
        var unknown = await Mesh("routes", "nosuch");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("gateway 'nosuch' is not in the mesh config", unknown.Err);

        var health = await Mesh("health");
        Assert.Matches(@"down\s+core2\s+tcp\s+down\s+\S+\s+cannot connect to 127\.0\.0\.1:\d+: connection refused", health.Out);
        Assert.Equal(1, JsonDocument.Parse((await Mesh("health", "--json")).Out).RootElement.GetProperty("down").GetInt32());
    }

    [Fact]
    public async Task Every_command_that_shows_state_exits_1_when_it_shows_something_down()
    {
        // the service "down" is down (every route table lists it); every gateway is connected; links lists only working links
        foreach (var args in new[] { ["health"], ["services"], ["routes", "edge2"], ["status"], new[] { "health", "--json" }, ["services", "--json"] })
        {
            var run = await Mesh(args);
            Assert.True(run.ExitCode == 1, $"mesh {string.Join(" ", args)} exited {run.ExitCode}: {run.Err}");
            Assert.NotEmpty(run.Out);   // the answer is printed all the same
            Assert.Empty(run.Err);
        }
        foreach (var args in new[] { ["gateways"], ["links"], new[] { "gateways", "--json" } })
            Assert.Equal(0, (await Mesh(args)).ExitCode);
    }

    [Fact]
    public async Task Times_in_JSON_are_written_plainly_by_the_API_and_by_the_CLI()
    {
        using var http = TestMesh.Http(Api);
        var api = await http.GetStringAsync("/v1/events");
        Assert.Contains("+00:00\"", api);
        Assert.DoesNotContain("\\u002B", api);
        foreach (var cli in new[] { (await Mesh("events", "--json")).Out, (await Mesh("health", "--json")).Out })
        {
            Assert.Contains("+00:00\"", cli);
            Assert.DoesNotContain("\\u002B", cli);
        }
    }

    [Fact]
    public async Task An_unknown_path_on_the_API_is_problem_json_as_every_error_of_a_Mesh_API_is()
    {
        using var http = TestMesh.Http(Api);
        using var response = await http.GetAsync("/v1/nosuch");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Events_print_one_line_each_and_one_JSON_object_per_line()
    {
        var events = await Mesh("events");
        Assert.Contains("reload-applied", events.Out);
        Assert.Contains("service-down    service down (owned by core2) is down", events.Out);
        var lines = (await Mesh("events", "--json", "--limit", "50")).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines.Select(l => JsonDocument.Parse(l).RootElement), e => e.GetProperty("kind").GetString() == "service-down");
    }

    [Fact]
    public async Task Reload_needs_the_token_and_says_which_revision_is_served()
    {
        var anonymous = await MeshCli.RunAsync(["reload", "--api", Api], env: new Dictionary<string, string> { ["MESH_API_TOKEN"] = "" });
        Assert.Equal(2, anonymous.ExitCode);
        Assert.Contains("needs the admin token", anonymous.Err);
        var reader = await Mesh("reload");   // with the read token
        Assert.Equal(1, reader.ExitCode);
        Assert.StartsWith("mesh: 403 the read token cannot change the mesh", reader.Err);
        var wrong = await Mesh("reload", "--token", "wrong");
        Assert.Equal(1, wrong.ExitCode);
        Assert.StartsWith("mesh: 401 unauthorized", wrong.Err);
        var reload = await MeshCli.RunAsync(["reload", "--api", Api], env: new Dictionary<string, string> { ["MESH_API_TOKEN"] = TestMesh.ApiToken });
        Assert.Equal(0, reload.ExitCode);
        Assert.StartsWith("route map v1 from ", reload.Out);
    }

    [Fact]
    public async Task Config_check_validates_a_file_locally_and_names_each_error()
    {
        Assert.Equal(0, (await MeshCli.RunAsync(["config", "check", _mesh.ConfigPath])).ExitCode);
        var broken = Path.Combine(_mesh.Dir, "broken.toml");
        await File.WriteAllTextAsync(broken, "[mesh]\nname = \"x\"\n[services.s]\ngateway = \"nowhere\"\n");
        var check = await MeshCli.RunAsync(["config", "check", broken]);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains($"{broken}:4: services.s.gateway:", check.Err);

        var one = Path.Combine(_mesh.Dir, "one.toml");
        await File.WriteAllTextAsync(one, "[mesh]\nname = \"x\"\n[gateways.a]\nlinks = [\"127.0.0.1:7443\"]\n"
            + "[services.s]\ngateway = \"a\"\ntarget = \"127.0.0.1:6379\"\n[[entries]]\ngateway = \"a\"\nlisten = \"127.0.0.1:9000\"\nservice = \"s\"\n");
        Assert.Equal($"{one}: valid: mesh x, 1 gateway, 1 service, 1 entry", (await MeshCli.RunAsync(["config", "check", one])).Out.Trim());
    }

    [Fact]
    public async Task An_API_that_cannot_be_reached_is_one_clear_line_and_exit_3()
    {
        var port = FreePorts.Next();
        var run = await MeshCli.RunAsync(["status", "--api", $"http://127.0.0.1:{port}"]);
        Assert.Equal(3, run.ExitCode);
        Assert.Equal($"mesh: cannot reach the API at http://127.0.0.1:{port}/ (connection refused); is a core gateway running with --api? (address from --api)",
            run.Err.Trim());
        Assert.Empty(run.Out);
        var env = await MeshCli.RunAsync(["gateways"], env: new Dictionary<string, string> { ["MESH_API"] = $"127.0.0.1:{port}" });
        Assert.Contains("(address from MESH_API)", env.Err);
    }

    [Fact]
    public async Task The_shell_runs_typed_commands_from_redirected_input_until_exit()
    {
        var run = await MeshCli.RunAsync(["shell", "--api", Api], stdin: "gateways\n\nnosuch\nlinks\nexit\nservices\n");
        Assert.Matches(@"core1\s+core\s+yes", run.Out);
        Assert.Contains("core1 <-> edge1", run.Out);
        Assert.DoesNotContain("SERVICE", run.Out);   // nothing after exit
        Assert.Contains("mesh: ", run.Err);           // the unknown command is named, the shell goes on
    }

    [Fact]
    public async Task The_shell_on_a_terminal_completes_commands_and_gateway_names_with_tab_and_recalls_history()
    {
        var screen = await MeshCli.OnTerminalAsync($"--api {Api}", "rou\ted\t1\r", "\x1b[A\r", "exit\r");
        Assert.Contains("routes edge1", screen);        // "rou" + Tab -> "routes ", "ed" + Tab -> "edge" (edge1, edge2), then 1
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(screen, @"route table v1(\.\d+)? of edge1"));   // ran, then Up + Enter ran it again
    }

    [Fact]
    public async Task Metrics_count_the_flows_and_bytes_sent_through_an_entry_and_show_an_entry_refusing_at_connect()
    {
        const int flows = 5;
        var sizes = Enumerable.Range(1, flows).Select(i => 1000L * i).ToArray();
        foreach (var size in sizes)
        {
            var (sent, received, bytes) = await ClientFlows.RoundTripAsync(await ClientFlows.ConnectAsync(_mesh.EchoEntry), size);
            Assert.Equal((sent, size), (received, bytes));
        }
        // the service "down" is down: its entry refuses at connect, which no counter sees; the gauge says so
        await _mesh.Core1.WaitForEntryNotListeningAsync($"127.0.0.1:{_mesh.DownEntry}", "down", TimeSpan.FromSeconds(30));
        Assert.Equal(SocketError.ConnectionRefused, (await Assert.ThrowsAsync<SocketException>(() => ClientFlows.ConnectAsync(_mesh.DownEntry))).SocketErrorCode);

        using var http = TestMesh.Http(Api);
        string text = "";
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        do text = await http.GetStringAsync("/metrics");   // a flow is counted once its tunnel has closed
        while (!text.Contains($"mesh_flows_total{{outcome=\"ok\",service=\"echo\"}} {flows}\n")
               && DateTime.UtcNow < deadline && await retry.WaitForNextTickAsync());

        Assert.Contains($"mesh_flows_total{{outcome=\"ok\",service=\"echo\"}} {flows}\n", text);
        Assert.Contains($"mesh_bytes_total{{direction=\"up\",service=\"echo\"}} {sizes.Sum()}\n", text);
        Assert.Contains($"mesh_bytes_total{{direction=\"down\",service=\"echo\"}} {sizes.Sum()}\n", text);
        Assert.Contains($"mesh_flow_duration_seconds_count{{service=\"echo\"}} {flows}\n", text);
        Assert.Contains("mesh_flows_open{service=\"echo\"} 0\n", text);
        Assert.Contains($"mesh_entry_listening{{entry=\"127.0.0.1:{_mesh.DownEntry}\",service=\"down\"}} 0\n", text);
        Assert.Contains($"mesh_entry_listening{{entry=\"127.0.0.1:{_mesh.EchoEntry}\",service=\"echo\"}} 1\n", text);
        Assert.Matches(@"mesh_link_pool_idle\{peer=""core2""\} \d+", text);
        Assert.Contains("# TYPE mesh_flows_total counter", text);
        Assert.Contains("mesh_reloads_total{result=\"applied\"} 1", text);
    }
}
