using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Node.Ui;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Node.Api;

/// <summary>
/// The REST API a core gateway serves on --api: JSON, every error as problem+json, an OpenAPI document at
/// /openapi/v1.json. Reads need the read or the admin token (unless --api-public-reads), writes the admin
/// token (docs/api.md lists who may call what); HTTPS with --api-cert/--api-key. Every answer comes from the
/// director, wherever it runs, through this node's control plane.
/// </summary>
public static class ApiServer
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(5);
    /// <summary>The largest config a PUT /v1/config takes.</summary>
    public const int MaxConfigBytes = 1024 * 1024;

    public static WebApplication Build(NodeOptions o, DirectorClient director, ApiTokens tokens, PrometheusText? metrics = null)
    {
        var builder = Slim(o.Api!, o.ApiCert is null ? null : X509Certificate2.CreateFromPemFile(o.ApiCert, o.ApiKey));
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        // JSON for programs, not for HTML: times read "+00:00", not System.Text.Json's default "\u002B00:00"
        builder.Services.ConfigureHttpJsonOptions(j => j.SerializerOptions.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
        var app = builder.Build();
        app.UseStatusCodePages();   // an unknown path or method is problem+json too: every error of a Mesh API is (the CLI tells it from other servers so)
        app.Use(async (context, next) =>
        {   // everything but the liveness and readiness probes and the page's files (no data) needs a token; writes the admin token
            var path = context.Request.Path.Value ?? "";
            if (path is "/healthz" or "/readyz" || UiPage.IsAsset(context.Request)) { await next(context); return; }
            var access = tokens.AccessOf(context.Request);
            var write = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
            if (access == ApiAccess.None || (write && access != ApiAccess.Admin))
            {
                await Denied(context, access, write);
                return;
            }
            await next(context);
        });
        Task<MeshView?> View() => director.AskAsync<MeshView>(GetMeshView.Instance, Ask);
        app.MapOpenApi();
        UiPage.Map(app);
        if (metrics is not null) MapMetrics(app, metrics);

        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));
        app.MapGet("/readyz", async () => await director.AskAsync<DirectorStatus>(GetDirectorStatus.Instance, Ask) is not null
            ? Results.Ok(new { status = "ready" })
            : NoDirector());
        app.MapGet("/v1/config", async () => await director.AskAsync<DirectorStatus>(GetDirectorStatus.Instance, Ask) is { } s
            ? Results.Ok(ConfigView.Of(s))
            : NoDirector());
        app.MapPut("/v1/config", async (HttpRequest request) =>
        {
            if (request.ContentLength is > MaxConfigBytes) return TooLarge();
            using var reader = new StreamReader(request.Body, System.Text.Encoding.UTF8);
            var buffer = new char[MaxConfigBytes + 1];
            var read = await reader.ReadBlockAsync(buffer);
            if (read > MaxConfigBytes) return TooLarge();
            var source = $"pushed through the API from {request.HttpContext.Connection.RemoteIpAddress} at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC";
            return ConfigAnswer(await director.AskAsync<DirectorStatus>(new PushConfig(new string(buffer, 0, read), source), TimeSpan.FromSeconds(15)),
                "the pushed config is invalid; the served revision stays");
        });
        app.MapGet("/v1/routes/{gateway}", async (string gateway) =>
        {
            if (!Names.IsValid(gateway))   // nothing about an impossible name reaches the director or a log
                return Results.Problem(statusCode: 404, title: "unknown gateway", detail: "that is not a gateway name: " + Names.Rule);
            return await director.AskAsync<GatewayRoutes>(new GetGatewayRoutes(gateway), Ask) switch
            {
                null => NoDirector(),
                { Table: null } => Results.Problem(statusCode: 404, title: "unknown gateway", detail: $"gateway '{gateway}' is not in the mesh config"),
                var routes => Results.Ok(routes.Table),
            };
        });
        app.MapGet("/v1/services", async () => await View() is { } v ? Results.Ok(v.Services) : NoDirector());
        app.MapGet("/v1/services/{name}", async (string name) => await View() is not { } v ? NoDirector()
            : v.Services.FirstOrDefault(sv => sv.Name == name) is { } service ? Results.Ok(service)
            : Results.Problem(statusCode: 404, title: "unknown service", detail: Names.IsValid(name) ? $"service '{name}' is not in the mesh config" : "that is not a service name"));
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
        ClusterApi.Map(app, director);
        app.MapPost("/v1/reload", async () => ConfigAnswer(await director.AskAsync<DirectorStatus>(ReloadConfig.Instance, TimeSpan.FromSeconds(15)),
            "the config file is invalid; the served revision stays"));
        return app;
    }

    private static IResult ConfigAnswer(DirectorStatus? status, string invalid) => status switch
    {
        null => NoDirector(),
        { ConfigErrors.Count: > 0 } s => Results.Problem(statusCode: 422, title: invalid, detail: string.Join("\n", s.ConfigErrors),
            extensions: new Dictionary<string, object?> { ["errors"] = s.ConfigErrors, ["revision"] = s.Version }),
        var s => Results.Ok(ConfigView.Of(s)),
    };

    private static IResult TooLarge() => Results.Problem(statusCode: 413, title: "config too large", detail: $"a config may be at most {MaxConfigBytes} bytes");

    private static Task Denied(HttpContext context, ApiAccess access, bool write)
    {
        var (status, title, detail) = access == ApiAccess.None
            ? (401, "unauthorized", "send a token as 'Authorization: Bearer TOKEN' (the read token for reads, the admin token for changes)")
            : (403, "the read token cannot change the mesh", "writes need the admin token (--api-token-file on the gateway, MESH_API_TOKEN for the CLI)");
        if (status == 401) context.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }

    /// <summary>Only /metrics, for a gateway that serves no API (--metrics).</summary>
    public static WebApplication BuildMetricsOnly(HostPort listen, PrometheusText metrics)
    {
        var app = Slim(listen, null).Build();
        MapMetrics(app, metrics);
        return app;
    }

    /// <summary>Kestrel on one address; it binds exclusively, so a taken port fails the start.</summary>
    private static WebApplicationBuilder Slim(HostPort listen, X509Certificate2? https)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();   // the node logs what matters; no line per request
        builder.WebHost.ConfigureKestrel(k =>
        {
            var address = IPAddress.TryParse(listen.Host, out var ip) ? ip : Dns.GetHostAddresses(listen.Host)[0];
            k.Listen(address, listen.Port, l => { if (https is not null) l.UseHttps(https); });
            k.Limits.MaxRequestBodySize = MaxConfigBytes + 4096;
        });
        return builder;
    }

    private static void MapMetrics(WebApplication app, PrometheusText metrics) =>
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8")).ExcludeFromDescription();

    private static IResult NoDirector() => Results.Problem(statusCode: 503, title: "no director",
        detail: "the director does not answer (it may be moving to another node, or no node with --config is up)");

    private sealed record ServiceHealthView(string Service, string Owner, string Check, string State, string? Reason, DateTimeOffset? Since);

    /// <summary>The mesh's health at a glance: counts, then each service and each gateway.</summary>
    private sealed record HealthView(int Up, int Down, int Unknown, IReadOnlyList<ServiceHealthView> Services, IReadOnlyList<GatewayView> Gateways)
    {
        public static HealthView Of(MeshView v) => new(
            v.Services.Count(s => s.Health == "up"), v.Services.Count(s => s.Health == "down"), v.Services.Count(s => s.Health == "unknown"),
            v.Services.Select(s => new ServiceHealthView(s.Name, s.Owner, s.Check, s.Health, s.HealthReason, s.HealthSince)).ToArray(),
            v.Gateways);
    }

    /// <param name="Source">where the served revision came from (a file on a node, or a push)</param>
    /// <param name="FileDiffers">the director's own file differs from the served revision (applied only when it changes, or pushed)</param>
    private sealed record ConfigView(long Revision, string Source, string Director, IReadOnlyList<string> Errors, bool Valid,
        string AppliedFrom, DateTimeOffset? AppliedAt, bool FileDiffers)
    {
        public static ConfigView Of(DirectorStatus s) =>
            new(s.Version, s.ConfigPath, s.Node, s.ConfigErrors, s.ConfigErrors.Count == 0, s.Source, s.AppliedAt, s.FileDiffers);
    }
}
