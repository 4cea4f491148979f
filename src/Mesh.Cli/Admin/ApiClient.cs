using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Mesh.Cli.Admin;

/// <summary>
/// Calls to the REST API, trying each API address in turn until one answers. Every failure becomes an
/// <see cref="AdminError"/> saying what happened in one line: no API can be reached (exit 3), no director
/// answers (503, exit 3), the address answers but not as a Mesh API (exit 3: its errors are problem+json,
/// another server's are not), or the API refused (problem+json: its detail, exit 1). The token goes with every
/// request (reads need one too). HTTPS certificates are checked against --ca / MESH_CA when given.
/// </summary>
public sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly ApiConnection _connection;
    private int _working;

    public ApiClient(ApiConnection connection)
    {
        _connection = connection;
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3) };
        if (connection.Ca is { } ca) handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) => Trusted(ca, cert, errors);
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
    }

    public ApiConnection Connection => _connection;

    /// <summary>The certificate chains to the given CA (and names the host asked for).</summary>
    private static bool Trusted(X509Certificate2 ca, X509Certificate? cert, SslPolicyErrors errors)
    {
        if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(cert)) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(ca.RawDataMemory.Span);
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<JsonElement> PostAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Post, path, null, ct);

    public Task<JsonElement> PutTextAsync(string path, string text, CancellationToken ct = default) => SendAsync(HttpMethod.Put, path, text, ct);

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? text, CancellationToken ct)
    {
        if (method != HttpMethod.Get && _connection.Token is null)
            throw new AdminError("this command changes the mesh and needs the admin token: --token, MESH_API_TOKEN, or token_file in " +
                ApiConnection.ConfigFile, ExitCodes.Usage);
        var failures = new List<string>();
        for (var i = 0; i < _connection.Apis.Count; i++)
        {
            var api = _connection.Apis[(_working + i) % _connection.Apis.Count];
            using var request = new HttpRequestMessage(method, new Uri(api, path));
            if (_connection.Token is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (text is not null) request.Content = new StringContent(text, System.Text.Encoding.UTF8, "application/toml");
            HttpResponseMessage response;
            try { response = await _http.SendAsync(request, ct); }
            catch (HttpRequestException e)
            {
                failures.Add($"{api} ({Why(e)})");
                continue;
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                failures.Add($"{api} (no answer within {_http.Timeout.TotalSeconds:0}s)");
                continue;
            }
            _working = (_working + i) % _connection.Apis.Count;
            using (response) return await ReadAsync(response, api, ct);
        }
        throw new AdminError($"cannot reach the API at {string.Join(", ", failures)}; is a core gateway running with --api? (address from {_connection.Source})",
            ExitCodes.Unreachable);
    }

    private async Task<JsonElement> ReadAsync(HttpResponseMessage response, Uri api, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        // every error of a Mesh API is problem+json (ApiServer): another server's 404 page, or its empty 404, is not one
        if (!response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            throw NotMeshApi(api, $"answered {(int)response.StatusCode} {response.ReasonPhrase}");
        JsonElement body;
        try { body = JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone(); }
        catch (JsonException) { throw NotMeshApi(api, $"answered {(int)response.StatusCode} with something that is not JSON"); }
        if (response.IsSuccessStatusCode) return body;
        var detail = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("detail", out var d) ? d.GetString() : null;
        var title = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("title", out var t) ? t.GetString() : null;
        var code = response.StatusCode == HttpStatusCode.ServiceUnavailable ? ExitCodes.Unreachable : ExitCodes.Failed;
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new AdminError($"401 {title}: the API needs a token: --token, MESH_API_TOKEN, or token_file in {ApiConnection.ConfigFile}", ExitCodes.Failed);
        throw new AdminError($"{(int)response.StatusCode} {title ?? response.ReasonPhrase}: {detail ?? text}", code);
    }

    /// <summary>An address that answers HTTP, but not as a Mesh API does: exit 3, as for no API at all.</summary>
    private AdminError NotMeshApi(Uri api, string what) =>
        new($"{api} {what} but is not a Mesh API (check --api / MESH_API; this address is from {_connection.Source})", ExitCodes.Unreachable);

    private static string Why(HttpRequestException e) => e.GetBaseException() switch
    {
        SocketException s => Words(s.SocketErrorCode),
        AuthenticationException a => $"TLS: {a.Message}; give the CA that signed the API's certificate with --ca or MESH_CA",
        var other => other.Message,
    };

    private static string Words(SocketError e) => e switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData => "host not found",
        SocketError.TimedOut => "timed out",
        _ => e.ToString(),
    };

    public void Dispose() => _http.Dispose();
}
