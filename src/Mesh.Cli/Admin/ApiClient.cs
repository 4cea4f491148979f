using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Mesh.Cli.Admin;

/// <summary>
/// Calls to the REST API. Every failure becomes an <see cref="AdminError"/> saying what happened in one
/// line: the API cannot be reached (exit 3), no director answers (503, exit 3), or the API refused
/// (problem+json: its detail, exit 1).
/// </summary>
public sealed class ApiClient(ApiConnection connection) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = connection.Api, Timeout = TimeSpan.FromSeconds(20) };

    public ApiConnection Connection => connection;

    public Task<JsonElement> GetAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Get, path, ct);

    public Task<JsonElement> PostAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Post, path, ct);

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (method != HttpMethod.Get)
        {
            if (connection.Token is null)
                throw new AdminError("this command changes the mesh and needs the API token: --token, MESH_API_TOKEN, or token_file in " +
                    ApiConnection.ConfigFile, ExitCodes.Usage);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", connection.Token);
        }
        HttpResponseMessage response;
        try { response = await _http.SendAsync(request, ct); }
        catch (HttpRequestException e)
        {
            var why = e.InnerException is SocketException s ? Words(s.SocketErrorCode) : e.GetBaseException().Message;
            throw new AdminError($"cannot reach the API at {connection.Api} ({why}); is a core gateway running with --api? (address from {connection.Source})",
                ExitCodes.Unreachable);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new AdminError($"the API at {connection.Api} did not answer within {_http.Timeout.TotalSeconds:0}s", ExitCodes.Unreachable);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            JsonElement body;
            try { body = JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone(); }
            catch (JsonException) { throw new AdminError($"{connection.Api} answered {(int)response.StatusCode} with something that is not JSON: is it a Mesh API?", ExitCodes.Failed); }
            if (response.IsSuccessStatusCode) return body;
            var detail = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("detail", out var d) ? d.GetString() : null;
            var title = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("title", out var t) ? t.GetString() : null;
            var code = response.StatusCode == HttpStatusCode.ServiceUnavailable ? ExitCodes.Unreachable : ExitCodes.Failed;
            throw new AdminError($"{(int)response.StatusCode} {title ?? response.ReasonPhrase}: {detail ?? text}", code);
        }
    }

    private static string Words(SocketError e) => e switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData => "host not found",
        SocketError.TimedOut => "timed out",
        _ => e.ToString(),
    };

    public void Dispose() => _http.Dispose();
}
