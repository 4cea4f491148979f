using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// `mesh config push FILE` (PUT /v1/config, admin token) applies a config from anywhere (issue 14): validated
/// (422 with every error, the served revision stays), stored, published; `mesh config show` says where the served
/// revision came from, and that the director's own file now differs from it.
/// </summary>
public sealed class ConfigPushSpec : IAsyncLifetime
{
    private readonly SoloCore _core = new();
    private readonly EchoServer _echo = new();
    private readonly int _first = FreePorts.Next(), _pushed = FreePorts.Next();
    private Dictionary<string, string> Admin => new() { ["MESH_API_TOKEN"] = TestMesh.ApiToken };

    private string Config(params int[] entries) => _core.Config($"""
        [services.echo]
        gateway = "core1"
        target = "127.0.0.1:{_echo.Port}"
        {string.Concat(entries.Select(p => $"""

            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{p}"
            service = "echo"
            """))}
        """);

    public async Task InitializeAsync() => await _core.StartAsync(Config(_first));

    public async Task DisposeAsync()
    {
        await _core.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task A_pushed_config_is_stored_and_served_and_show_says_where_it_came_from()
    {
        var file = Path.Combine(_core.Dir, "pushed.toml");
        await File.WriteAllTextAsync(file, Config(_first, _pushed));

        var push = await MeshCli.RunAsync(["config", "push", file, "--api", _core.Api], env: Admin);

        Assert.True(push.ExitCode == 0, push.Err);
        Assert.StartsWith("route map v2 is served", push.Out);
        await _core.Node.WaitForEntryListeningAsync($"127.0.0.1:{_pushed}", "echo", TimeSpan.FromSeconds(15));
        Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_pushed), TimeSpan.FromSeconds(10)));
        var show = await MeshCli.RunAsync(["config", "show", "--json", "--api", _core.Api]);
        var served = JsonDocument.Parse(show.Out).RootElement;
        Assert.Equal(2, served.GetProperty("revision").GetInt64());
        Assert.Contains("pushed through the API from 127.0.0.1", served.GetProperty("appliedFrom").GetString());
        Assert.True(served.GetProperty("fileDiffers").GetBoolean());   // core1's own file still has one entry: said, not applied
    }

    [Fact]
    public async Task An_invalid_config_is_a_422_with_every_error_and_the_served_revision_stays()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_core.Api) };
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/config") { Content = new StringContent("""
            [mesh]
            name = "solo"
            [gateways.core1]
            links = ["127.0.0.1:99999"]
            [services.x]
            gateway = "nobody"
            target = "127.0.0.1:1"
            """) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestMesh.ApiToken);
        using var response = await http.SendAsync(request);

        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var errors = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains("gateways.core1.links: port '99999'"));
        Assert.Contains(errors, e => e.Contains("services.x.gateway: unknown gateway 'nobody'"));
        using var api = _core.Http();
        Assert.Equal(1, (await api.GetJsonAsync("/v1/config")).GetProperty("revision").GetInt64());
        Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_first), TimeSpan.FromSeconds(10)));   // nothing changed
    }

    [Fact]
    public async Task The_read_token_cannot_push_and_the_cli_checks_a_file_before_sending_it()
    {
        var file = Path.Combine(_core.Dir, "pushed.toml");
        await File.WriteAllTextAsync(file, Config(_first, _pushed));
        var read = await MeshCli.RunAsync(["config", "push", file, "--api", _core.Api]);   // the read token
        Assert.Equal(1, read.ExitCode);
        Assert.Contains("403", read.Err);

        var bad = Path.Combine(_core.Dir, "bad.toml");
        await File.WriteAllTextAsync(bad, "[mesh]\nname = \"solo\"\n[gateways.core1]\nlinks = [\"nowhere\"]\n");
        var refused = await MeshCli.RunAsync(["config", "push", bad, "--api", _core.Api], env: Admin);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"{bad}:4: gateways.core1.links:", refused.Err);
        using var api = _core.Http();
        Assert.Equal(1, (await api.GetJsonAsync("/v1/config")).GetProperty("revision").GetInt64());
    }
}
