using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Mesh.EndToEnd.Tests;

/// <summary>Calls to a gateway's REST API as a script would make them: status, media type, and the JSON body.</summary>
public static class ApiCalls
{
    public static async Task<(HttpStatusCode Status, string? Type, JsonElement Body)> SendAsync(this HttpClient http, HttpMethod method, string path,
        string? token = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone());
    }

    public static async Task<JsonElement> GetJsonAsync(this HttpClient http, string path) => (await http.SendAsync(HttpMethod.Get, path)).Body;

    /// <summary>Waits until the API answers /readyz with 200 (a director answers).</summary>
    public static async Task WaitReadyAsync(this HttpClient http, TimeSpan within)
    {
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            try { if ((await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK) return; }
            catch (HttpRequestException) { }
            await retry.WaitForNextTickAsync();
        }
    }

    /// <summary>Asks <paramref name="path"/> until <paramref name="done"/> holds for its JSON, or the time is up (then the last answer is returned).</summary>
    public static async Task<JsonElement> PollJsonAsync(this HttpClient http, string path, Func<JsonElement, bool> done, TimeSpan within)
    {
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var deadline = DateTime.UtcNow + within;
        JsonElement body = default;
        while (DateTime.UtcNow < deadline)
        {
            try { if (done(body = await http.GetJsonAsync(path))) return body; }
            catch (HttpRequestException) { }   // the gateway is not listening yet, or was killed: ask again
            await retry.WaitForNextTickAsync();
        }
        return body;
    }
}
