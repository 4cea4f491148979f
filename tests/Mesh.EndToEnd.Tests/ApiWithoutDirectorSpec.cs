using System.Net;
using Mesh.Config;
using Mesh.Node.Api;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>The API of a node whose director does not answer, and which has no token: it says so, over real HTTP.</summary>
public sealed class ApiWithoutDirectorSpec : IAsyncLifetime
{
    private readonly int _port = FreePorts.Next();
    private Microsoft.AspNetCore.Builder.WebApplication _api = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _api = ApiServer.Build(HostPort.Parse($"127.0.0.1:{_port}"), new DirectorClient(), token: null);
        await _api.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.DisposeAsync();
    }

    [Theory]
    [InlineData("/readyz")]
    [InlineData("/v1/services")]
    [InlineData("/v1/health")]
    [InlineData("/v1/events")]
    public async Task Reads_are_a_503_problem_saying_no_director_answers(string path)
    {
        var (status, type, body) = await _http.SendAsync(HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("application/problem+json", type);
        Assert.StartsWith("the director does not answer", body.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(HttpMethod.Get, "/healthz")).Status);   // the process itself is alive
    }

    [Fact]
    public async Task Writes_are_a_403_problem_saying_how_to_allow_them_when_no_token_is_configured()
    {
        var (status, type, body) = await _http.SendAsync(HttpMethod.Post, "/v1/reload", "any");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("application/problem+json", type);
        Assert.Contains("MESH_API_TOKEN", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_limit_out_of_range_is_a_400_problem_naming_it()
    {
        var (status, _, body) = await _http.SendAsync(HttpMethod.Get, "/v1/events?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("limit must be between 1 and 1000", body.GetProperty("detail").GetString());
    }
}
