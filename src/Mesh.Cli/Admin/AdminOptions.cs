using System.CommandLine;
using System.Text.Json;

namespace Mesh.Cli.Admin;

/// <summary>The options every admin command takes, and how a command runs: errors as one line and an exit code.</summary>
public static class AdminOptions
{
    public static readonly Option<string?> Api = new("--api")
    {
        Description = "Core gateways' REST APIs, comma-separated: the first that answers is used "
                      + $"(default: MESH_API, then api in the CLI config file, then {ApiConnection.DefaultApi})",
        HelpName = "URL",
        Recursive = true,
    };
    public static readonly Option<string?> Token = new("--token")
    {
        Description = "The API token for commands that change the mesh (default: MESH_API_TOKEN, then token_file in the CLI config file)",
        HelpName = "TOKEN",
        Recursive = true,
    };
    public static readonly Option<string?> Ca = new("--ca")
    {
        Description = "The CA certificate (PEM) that signed the API's HTTPS certificate (default: MESH_CA, then ca in the CLI config file)",
        HelpName = "FILE",
        Recursive = true,
    };
    public static readonly Option<bool> Json = new("--json") { Description = "Print JSON (for scripts) instead of tables", Recursive = true };

    /// <summary>JSON for scripts, not for HTML: times read "+00:00", not System.Text.Json's default "\u002B00:00".</summary>
    private static readonly JsonSerializerOptions Plain = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Pretty = new(Plain) { WriteIndented = true };

    /// <summary>Runs <paramref name="body"/> with a client for the API; an <see cref="AdminError"/> becomes its message on stderr and its exit code.</summary>
    public static async Task<int> RunAsync(ParseResult r, Func<ApiClient, bool, Task<int>> body)
    {
        try
        {
            using var client = new ApiClient(ApiConnection.Resolve(r.GetValue(Api), r.GetValue(Token), r.GetValue(Ca)));
            return await body(client, r.GetValue(Json));
        }
        catch (AdminError e)
        {
            Console.Error.WriteLine($"mesh: {e.Message}");
            return e.ExitCode;
        }
    }

    public static void PrintJson<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, Pretty));

    /// <summary>One JSON value on one line (`events --json`: easy to pipe).</summary>
    public static void PrintJsonLine(JsonElement json) => Console.WriteLine(JsonSerializer.Serialize(json, Plain));
}
