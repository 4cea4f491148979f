using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Mesh.Cli.Admin;

/// <summary>
/// Where the admin commands find a core gateway's REST API, and the token for writes. First of: the
/// flags (--api, --token), the environment (MESH_API, MESH_API_TOKEN), the CLI's config file
/// (MESH_CLI_CONFIG or ~/.config/mesh/cli.toml: api = "http://…", token_file = "…"), then http://127.0.0.1:8080.
/// </summary>
public sealed record ApiConnection(Uri Api, string? Token, string Source)
{
    public const string DefaultApi = "http://127.0.0.1:8080";

    public static string ConfigFile => Environment.GetEnvironmentVariable("MESH_CLI_CONFIG") is { Length: > 0 } path ? path
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "mesh", "cli.toml");

    public static ApiConnection Resolve(string? apiFlag, string? tokenFlag)
    {
        var (fileApi, fileToken) = ReadConfigFile();
        var env = Environment.GetEnvironmentVariable("MESH_API");
        var (api, source) = apiFlag is { Length: > 0 } ? (apiFlag, "--api")
            : env is { Length: > 0 } ? (env, "MESH_API")
            : fileApi is not null ? (fileApi, ConfigFile)
            : (DefaultApi, "the default");
        var token = tokenFlag is { Length: > 0 } ? tokenFlag
            : Environment.GetEnvironmentVariable("MESH_API_TOKEN") is { Length: > 0 } t ? t
            : fileToken;
        if (!Uri.TryCreate(api.Contains("://") ? api : $"http://{api}", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new AdminError($"the API address '{api}' (from {source}) is not an http(s) URL, e.g. {DefaultApi}", ExitCodes.Usage);
        return new ApiConnection(uri, token, source);
    }

    private static (string? Api, string? Token) ReadConfigFile()
    {
        var path = ConfigFile;
        if (!File.Exists(path)) return (null, null);
        TomlTable table;
        try { table = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(path), new TomlSerializerOptions { SourceName = path })!; }
        catch (TomlException e) { throw new AdminError($"{path}: {e.Message}", ExitCodes.Usage); }
        var api = table.TryGetValue("api", out var a) ? a as string : null;
        string? token = null;
        if (table.TryGetValue("token_file", out var f) && f is string tokenFile)
        {
            var full = Path.Combine(Path.GetDirectoryName(path)!, tokenFile);
            token = File.Exists(full) ? File.ReadLines(full).FirstOrDefault()?.Trim()
                : throw new AdminError($"{path}: token_file: {full} does not exist", ExitCodes.Usage);
        }
        return (api, token);
    }
}

/// <summary>Exit codes scripts can rely on (docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0, Failed = 1, Usage = 2, Unreachable = 3;
}

/// <summary>A command that cannot do what was asked: one line for the operator, and the exit code.</summary>
public sealed class AdminError(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
