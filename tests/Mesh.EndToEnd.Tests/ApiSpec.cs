using System.Net;
using System.Text.Json;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>The REST API of a real core gateway (--api), over real HTTP.</summary>
public sealed class ApiSpec : IAsyncLifetime
{
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        await _mesh.StartAsync(_echo.Port, downPort: FreePorts.Next(), api: true);
        await _mesh.ReadyForFlowsAsync();
        _http = TestMesh.Http($"http://127.0.0.1:{_mesh.ApiPort}");
        await _http.WaitReadyAsync(TestMesh.Ready);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private Task<(HttpStatusCode Status, string? Type, JsonElement Body)> Send(HttpMethod method, string path, string? token = null) =>
        _http.SendAsync(method, path, token);

    [Fact]
    public async Task Health_readiness_config_and_routes_are_served_as_JSON()
    {
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/healthz")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/readyz")).Status);

        var config = await Send(HttpMethod.Get, "/v1/config");
        Assert.Equal(HttpStatusCode.OK, config.Status);
        Assert.Equal(1, config.Body.GetProperty("revision").GetInt64());
        Assert.True(config.Body.GetProperty("valid").GetBoolean());
        Assert.EndsWith("mesh.toml", config.Body.GetProperty("source").GetString());

        var routes = await Send(HttpMethod.Get, "/v1/routes/edge1");
        Assert.Equal(HttpStatusCode.OK, routes.Status);
        Assert.Contains(routes.Body.GetProperty("entries").EnumerateArray(), e => e.GetProperty("service").GetString() == "echo2");
        Assert.Contains(routes.Body.GetProperty("owned").EnumerateArray(), o => o.GetProperty("name").GetString() == "echo");
        var version = routes.Body.GetProperty("version").GetInt64();   // revision * 2^40 + counter: ordered as a number (ADR 0013)
        var counter = version % (1L << 40);
        Assert.Equal(1, version >> 40);
        Assert.Equal(counter == 0 ? "v1" : $"v1.{counter}", routes.Body.GetProperty("versionText").GetString());
    }

    [Fact]
    public async Task Services_entries_gateways_and_links_describe_the_mesh_the_director_serves()
    {
        var services = await Send(HttpMethod.Get, "/v1/services");
        var echo = services.Body.EnumerateArray().Single(sv => sv.GetProperty("name").GetString() == "echo");
        Assert.Equal("edge1", echo.GetProperty("owner").GetString());
        Assert.Equal($"core1 127.0.0.1:{_mesh.EchoEntry}", Assert.Single(echo.GetProperty("entries").EnumerateArray()).GetString());

        var one = await Send(HttpMethod.Get, "/v1/services/echo3");
        Assert.Equal("edge2", one.Body.GetProperty("owner").GetString());
        var missing = await Send(HttpMethod.Get, "/v1/services/nosuch");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Contains("'nosuch'", missing.Body.GetProperty("detail").GetString());

        var entries = await Send(HttpMethod.Get, "/v1/entries");
        Assert.Equal(5, entries.Body.GetArrayLength());

        // edge1 is seen once it asks for its table or reports its links (at least every 15 s)
        var gateways = await _http.PollJsonAsync("/v1/gateways",
            g => Edge1(g).GetProperty("connected").GetBoolean() && Edge1(g).GetProperty("version").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(30));
        var edge1 = Edge1(gateways);
        static JsonElement Edge1(JsonElement gateways) => gateways.EnumerateArray().Single(g => g.GetProperty("name").GetString() == "edge1");
        Assert.False(edge1.GetProperty("core").GetBoolean());
        Assert.True(edge1.GetProperty("connected").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, edge1.GetProperty("lastSeen").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, edge1.GetProperty("since").ValueKind);
        Assert.StartsWith("0.7.0", edge1.GetProperty("version").GetString());   // from its link report

        var links = await Send(HttpMethod.Get, "/v1/links");
        Assert.Contains(links.Body.EnumerateArray(), l => l.GetProperty("a").GetString() == "core1" && l.GetProperty("b").GetString() == "edge1");
    }

    [Fact]
    public async Task An_unknown_gateway_is_a_404_problem_naming_it()
    {
        var (status, type, body) = await Send(HttpMethod.Get, "/v1/routes/nosuch");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("application/problem+json", type);
        Assert.Contains("'nosuch'", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_reload_needs_the_token_and_a_broken_file_is_refused_with_its_errors_while_the_last_map_stays()
    {
        using (var nobody = TestMesh.Http($"http://127.0.0.1:{_mesh.ApiPort}", token: null))
        {
            var anonymous = await nobody.SendAsync(HttpMethod.Post, "/v1/reload");
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
            Assert.Equal("application/problem+json", anonymous.Type);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(HttpMethod.Post, "/v1/reload", "wrong-token-of-the-right-size")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, "/v1/reload", TestMesh.ApiReadToken)).Status);

        var same = await Send(HttpMethod.Post, "/v1/reload", TestMesh.ApiToken);
        Assert.Equal(HttpStatusCode.OK, same.Status);
        Assert.Equal(1, same.Body.GetProperty("revision").GetInt64());   // the same file: the same revision

        var original = await File.ReadAllTextAsync(_mesh.ConfigPath);
        await File.WriteAllTextAsync(_mesh.ConfigPath, original.Replace("pool_size = 4", "pool_size = \"many\""));
        var broken = await Send(HttpMethod.Post, "/v1/reload", TestMesh.ApiToken);
        Assert.Equal((HttpStatusCode)422, broken.Status);
        Assert.Contains("mesh.toml:3: mesh.pool_size: must be an integer", broken.Body.GetProperty("detail").GetString());
        var config = await Send(HttpMethod.Get, "/v1/config");
        Assert.False(config.Body.GetProperty("valid").GetBoolean());
        Assert.Equal(1, config.Body.GetProperty("revision").GetInt64());   // still serving the last good map

        await File.WriteAllTextAsync(_mesh.ConfigPath, original.Replace("pool_size = 4", "pool_size = 5"));
        var fixedUp = await Send(HttpMethod.Post, "/v1/reload", TestMesh.ApiToken);
        Assert.Equal(2, fixedUp.Body.GetProperty("revision").GetInt64());
    }

    /// <summary>Endpoints docs/api.md lists that the OpenAPI document leaves out on purpose (Prometheus text, not JSON).</summary>
    private static readonly string[] NotInOpenApi = ["GET /metrics"];

    [Fact]
    public async Task The_OpenAPI_document_and_docs_api_md_list_the_same_endpoints()
    {
        var openApi = JsonDocument.Parse(await _http.GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}")).ToHashSet();
        Assert.Contains("GET /v1/routes/{gateway}", openApi);
        Assert.Contains("POST /v1/cluster/leave/{node}", openApi);

        var docs = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "docs", "api.md"));
        var documented = System.Text.RegularExpressions.Regex.Matches(docs, @"^\| `(GET|POST|PUT|DELETE|PATCH) (/[^`?]*)[^`]*` \|",
            System.Text.RegularExpressions.RegexOptions.Multiline).Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value}").ToHashSet();
        var undocumented = openApi.Where(e => !documented.Contains(e)).Order(StringComparer.Ordinal).ToList();
        Assert.True(undocumented.Count == 0, $"docs/api.md does not document: {string.Join(", ", undocumented)}");
        var unserved = documented.Where(e => !openApi.Contains(e) && !NotInOpenApi.Contains(e)).Order(StringComparer.Ordinal).ToList();
        Assert.True(unserved.Count == 0, $"docs/api.md documents endpoints the OpenAPI document does not have: {string.Join(", ", unserved)}");
    }
}
