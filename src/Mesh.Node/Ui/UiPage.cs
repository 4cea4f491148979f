using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Mesh.Node.Ui;

/// <summary>
/// The live topology page at /ui: one HTML file, one script, one stylesheet and the vendored cytoscape, all
/// embedded in this binary (no CDN: it works offline). The files hold no data of the mesh, so they are served
/// without a token; the page reads the mesh from the API's /v1 endpoints with the token the user gives it,
/// exactly as any other API client (docs/api.md). A strict Content-Security-Policy lets it run only its own
/// files and talk only to this API.
/// </summary>
public static class UiPage
{
    /// <summary>The page's own address; its files are below it (/ui/app.js...).</summary>
    public const string Path = "/ui";

    private sealed record Asset(string ContentType, byte[] Bytes, string ETag);

    private static readonly Dictionary<string, Asset> Assets = new()
    {
        [Path] = Load("index.html", "text/html; charset=utf-8"),
        [$"{Path}/app.js"] = Load("app.js", "text/javascript; charset=utf-8"),
        [$"{Path}/app.css"] = Load("app.css", "text/css; charset=utf-8"),
        [$"{Path}/vendor/cytoscape.min.js"] = Load("vendor/cytoscape.min.js", "text/javascript; charset=utf-8"),
        [$"{Path}/vendor/cytoscape.LICENSE"] = Load("vendor/cytoscape.LICENSE", "text/plain; charset=utf-8"),
    };

    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
                                  + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Is this a request for one of the page's files (served with no token: they hold no data)?</summary>
    public static bool IsAsset(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && Assets.ContainsKey(request.Path.Value ?? "");

    public static void Map(WebApplication app)
    {
        foreach (var (path, asset) in Assets)
            app.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], (HttpContext context) => Serve(context, asset)).ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext context, Asset asset)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";   // revalidated by ETag: a new Mesh version serves its own page
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static Asset Load(string file, string contentType)
    {
        var name = "ui." + file.Replace('/', '.');
        using var stream = typeof(UiPage).Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"the page's file {file} is not embedded (resource {name})");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.ToArray();
        return new Asset(contentType, bytes, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
    }
}
