using System.Security.Cryptography;
using System.Text;
using Mesh.Config;
using Mesh.Contracts.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Node.Api;

/// <summary>
/// The REST API a core gateway serves on --api: JSON, errors as problem+json, an OpenAPI document at
/// /openapi/v1.json. Reads are open; writes need the bearer token (MESH_API_TOKEN or --api-token-file).
/// Every answer comes from the director, wherever it runs, through this node's control plane.
/// </summary>
public static class ApiServer
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(5);

    public static WebApplication Build(HostPort listen, DirectorClient director, string? token, PrometheusText? metrics = null)
    {
        var builder = Slim(listen);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        var app = builder.Build();
        Task<MeshView?> View() => director.AskAsync<MeshView>(GetMeshView.Instance, Ask);
        app.MapOpenApi();
        if (metrics is not null) MapMetrics(app, metrics);

        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
        app.MapGet("/readyz", async () => await director.AskAsync<DirectorStatus>(GetDirectorStatus.Instance, Ask) is { } s
            ? Results.Ok(new { status = "ready", director = s.Node })
            : NoDirector());
        app.MapGet("/v1/config", async () => await director.AskAsync<DirectorStatus>(GetDirectorStatus.Instance, Ask) is { } s
            ? Results.Ok(ConfigView.Of(s))
            : NoDirector());
        app.MapGet("/v1/routes/{gateway}", async (string gateway) =>
            await director.AskAsync<RouteTable>(new GetRouteTable(gateway, 0, TimeSpan.Zero), Ask) switch
            {
                null => NoDirector(),
                { Declared: false } => Results.Problem(statusCode: 404, title: "unknown gateway",
                    detail: $"gateway '{gateway}' is not in the mesh config"),
                var table => Results.Ok(table),
            });
        app.MapGet("/v1/services", async () => await View() is { } v ? Results.Ok(v.Services) : NoDirector());
        app.MapGet("/v1/services/{name}", async (string name) => await View() is not { } v ? NoDirector()
            : v.Services.FirstOrDefault(sv => sv.Name == name) is { } service ? Results.Ok(service)
            : Results.Problem(statusCode: 404, title: "unknown service", detail: $"service '{name}' is not in the mesh config"));
        app.MapGet("/v1/entries", async () => await View() is { } v ? Results.Ok(v.Entries) : NoDirector());
        app.MapGet("/v1/gateways", async () => await View() is { } v ? Results.Ok(v.Gateways) : NoDirector());
        app.MapGet("/v1/links", async () => await View() is { } v ? Results.Ok(v.Links) : NoDirector());
        app.MapGet("/v1/health", async () => await View() is { } v ? Results.Ok(HealthView.Of(v)) : NoDirector());
        app.MapGet("/v1/events", async (int? limit, DateTimeOffset? since) =>
        {
            if (limit is < 1 or > 1000)
                return Results.Problem(statusCode: 400, title: "invalid limit", detail: $"limit must be between 1 and 1000, not {limit}");
            return await View() is { } v
                ? Results.Ok(v.Events.Where(e => since is null || e.At > since).TakeLast(limit ?? 100))
                : NoDirector();
        });
        ClusterApi.Map(app, director, request => Refused(request, token));
        app.MapPost("/v1/reload", async (HttpRequest request) =>
        {
            if (Refused(request, token) is { } refusal) return refusal;
            return await director.AskAsync<DirectorStatus>(ReloadConfig.Instance, TimeSpan.FromSeconds(15)) switch
            {
                null => NoDirector(),
                { ConfigErrors.Count: > 0 } s => Results.Problem(statusCode: 422, title: "the config file is invalid; the last good map is still served",
                    detail: string.Join("\n", s.ConfigErrors), extensions: new Dictionary<string, object?> { ["errors"] = s.ConfigErrors, ["revision"] = s.Version }),
                var s => Results.Ok(ConfigView.Of(s)),
            };
        });
        return app;
    }

    /// <summary>Only /metrics, for a gateway that serves no API (--metrics).</summary>
    public static WebApplication BuildMetricsOnly(HostPort listen, PrometheusText metrics)
    {
        var app = Slim(listen).Build();
        MapMetrics(app, metrics);
        return app;
    }

    private static WebApplicationBuilder Slim(HostPort listen)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();   // the node logs what matters; no line per request
        builder.WebHost.UseUrls($"http://{listen}");
        return builder;
    }

    private static void MapMetrics(WebApplication app, PrometheusText metrics) =>
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8")).ExcludeFromDescription();

    private static IResult NoDirector() => Results.Problem(statusCode: 503, title: "no director",
        detail: "the director does not answer (it may be moving to another node, or no node with --config is up)");

    /// <summary>Writes need the bearer token; with no token configured, writes are off.</summary>
    private static IResult? Refused(HttpRequest request, string? token)
    {
        if (token is null)
            return Results.Problem(statusCode: 403, title: "writes are disabled",
                detail: "this node has no API token: set MESH_API_TOKEN or --api-token-file to allow writes");
        var given = request.Headers.Authorization.ToString();
        var expected = $"Bearer {token}";
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected)) ? null
            : Results.Problem(statusCode: 401, title: "unauthorized", detail: "send the API token as 'Authorization: Bearer TOKEN'");
    }

    private sealed record ServiceHealthView(string Service, string Owner, string Check, string State, string? Reason, DateTimeOffset? Since);

    /// <summary>The mesh's health at a glance: counts, then each service and each gateway.</summary>
    private sealed record HealthView(int Up, int Down, int Unknown, IReadOnlyList<ServiceHealthView> Services, IReadOnlyList<GatewayView> Gateways)
    {
        public static HealthView Of(MeshView v) => new(
            v.Services.Count(s => s.Health == "up"), v.Services.Count(s => s.Health == "down"), v.Services.Count(s => s.Health == "unknown"),
            v.Services.Select(s => new ServiceHealthView(s.Name, s.Owner, s.Check, s.Health, s.HealthReason, s.HealthSince)).ToArray(),
            v.Gateways);
    }

    private sealed record ConfigView(long Revision, string Source, string Director, IReadOnlyList<string> Errors, bool Valid)
    {
        public static ConfigView Of(DirectorStatus s) => new(s.Version, s.ConfigPath, s.Node, s.ConfigErrors, s.ConfigErrors.Count == 0);
    }
}
