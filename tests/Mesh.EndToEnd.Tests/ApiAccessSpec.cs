using System.Net;
using Mesh.Config;
using Mesh.Node;
using Mesh.Node.Api;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The API's credentials over real HTTP, on a node whose director does not answer: who may read, who may
/// write, what a caller without a token is told, and that a bad token file stops the start.
/// </summary>
public sealed class ApiAccessSpec : IAsyncLifetime
{
    private const string Admin = "admin-token-0123456789", Read = "read-token-0123456789";
    private readonly int _port = FreePorts.Next();
    private Microsoft.AspNetCore.Builder.WebApplication _api = null!;

    public async Task InitializeAsync()
    {
        var o = new NodeOptions("core1") { Api = HostPort.Parse($"127.0.0.1:{_port}") };
        _api = ApiServer.Build(o, new DirectorClient(), new ApiTokens(Admin, Read, PublicReads: false));
        await _api.StartAsync();
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private HttpClient Http(string? token) => TestMesh.Http($"http://127.0.0.1:{_port}", token);

    [Theory]
    [InlineData("/v1/services")]
    [InlineData("/v1/health")]
    [InlineData("/v1/events")]
    [InlineData("/v1/routes/core1")]
    [InlineData("/v1/cluster")]
    [InlineData("/metrics")]
    [InlineData("/openapi/v1.json")]
    public async Task A_read_without_a_token_is_a_401_problem_saying_what_to_send(string path)
    {
        using var http = Http(null);
        var (status, type, body) = await http.SendAsync(HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("application/problem+json", type);
        Assert.Contains("Authorization: Bearer", body.GetProperty("detail").GetString());
        using var wrong = Http("not-the-token-at-all-0000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.SendAsync(HttpMethod.Get, path)).Status);
    }

    [Theory]
    [InlineData("/v1/services")]
    [InlineData("/v1/health")]
    [InlineData("/v1/events")]
    public async Task With_the_read_token_reads_are_a_503_problem_saying_no_director_answers(string path)
    {
        using var http = Http(Read);
        var (status, type, body) = await http.SendAsync(HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("application/problem+json", type);
        Assert.StartsWith("the director does not answer", body.GetProperty("detail").GetString());
        using var anonymous = Http(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(HttpMethod.Get, "/healthz")).Status);   // liveness needs nothing
    }

    [Theory]
    [InlineData("/v1/reload")]
    [InlineData("/v1/cluster/leave/core2")]
    [InlineData("/v1/cluster/down/core2")]
    public async Task The_read_token_cannot_write_and_the_admin_token_can(string path)
    {
        using var reader = Http(Read);
        var (status, _, body) = await reader.SendAsync(HttpMethod.Post, path);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("admin token", body.GetProperty("detail").GetString());
        using var anonymous = Http(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(HttpMethod.Post, path)).Status);
        using var admin = Http(Admin);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await admin.SendAsync(HttpMethod.Post, path)).Status);   // let through: no control plane here
    }

    [Theory]
    [InlineData("/ui", "text/html")]
    [InlineData("/ui/app.js", "text/javascript")]
    [InlineData("/ui/app.css", "text/css")]
    [InlineData("/ui/vendor/cytoscape.min.js", "text/javascript")]
    [InlineData("/ui/vendor/cytoscape.LICENSE", "text/plain")]
    public async Task The_topology_page_files_hold_no_data_and_need_no_token_under_a_policy_that_runs_only_its_own_scripts(string path, string type)
    {
        using var anonymous = Http(null);
        using var response = await anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(" ", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("script-src 'self';", policy);
        Assert.Contains("connect-src 'self';", policy);
        Assert.Equal("nosniff", string.Join("", response.Headers.GetValues("X-Content-Type-Options")));
        // the same bytes for everyone: revalidated by ETag
        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await anonymous.SendAsync(again)).StatusCode);
    }

    [Theory]
    [InlineData("GET", "/ui/other.js")]
    [InlineData("GET", "/ui/../v1/services")]
    [InlineData("POST", "/ui")]
    public async Task Nothing_else_under_ui_is_let_through_without_a_token(string method, string path)
    {
        using var anonymous = Http(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(new HttpMethod(method), path)).Status);
    }

    [Fact]
    public async Task A_limit_out_of_range_is_a_400_problem_naming_it()
    {
        using var http = Http(Read);
        var (status, _, body) = await http.SendAsync(HttpMethod.Get, "/v1/events?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("limit must be between 1 and 1000", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_route_request_for_a_name_that_cannot_be_a_gateway_never_reaches_the_director()
    {
        using var http = Http(Read);
        var (status, _, body) = await http.SendAsync(HttpMethod.Get, "/v1/routes/" + Uri.EscapeDataString("evil\nINFO forged line"));
        Assert.Equal(HttpStatusCode.NotFound, status);   // not a 503: it was answered here
        Assert.DoesNotContain("forged", body.GetProperty("detail").GetString());
    }

    [Fact]
    public void A_token_file_that_holds_no_token_or_a_short_one_stops_the_start_with_a_clear_error()
    {
        var dir = Directory.CreateTempSubdirectory("mesh-tokens-").FullName;
        var blank = Path.Combine(dir, "blank");
        File.WriteAllText(blank, "\n   \n");
        var e = Assert.Throws<ApiTokenException>(() => ApiTokens.From(new NodeOptions("core1") { ApiTokenFile = blank }));
        Assert.Contains($"--api-token-file {blank}: the file holds no token", e.Message);

        var firstLineBlank = Path.Combine(dir, "first-line-blank");
        File.WriteAllText(firstLineBlank, "\n" + Admin + "\n");   // once gave an empty token: every write refused
        Assert.Equal(Admin, ApiTokens.From(new NodeOptions("core1") { ApiTokenFile = firstLineBlank }).Admin);

        var shortOne = Path.Combine(dir, "short");
        File.WriteAllText(shortOne, "secret\n");
        Assert.Contains("use at least 16", Assert.Throws<ApiTokenException>(() => ApiTokens.From(new NodeOptions("core1") { ApiTokenFile = shortOne })).Message);
        Assert.Contains("--api-public-reads", Assert.Throws<ApiTokenException>(() => ApiTokens.From(new NodeOptions("core1"))).Message);
    }
}
