using System.Security.Cryptography.X509Certificates;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Mesh.Cli.Admin;

/// <summary>
/// Where the admin commands find the REST API, the token, and the CA that signed the API's HTTPS
/// certificate. First of: the flags (--api, --token, --ca), the environment (MESH_API, MESH_API_TOKEN,
/// MESH_CA), the CLI's config file (MESH_CLI_CONFIG or ~/.config/mesh/cli.toml: api = "https://…",
/// token_file = "…", ca = "…"), then http://127.0.0.1:8080. Several API addresses may be given,
/// comma-separated: the first that answers is used (the CLI survives the loss of one core gateway).
/// </summary>
public sealed record ApiConnection(IReadOnlyList<Uri> Apis, string? Token, string Source, X509Certificate2? Ca = null)
{
    public const string DefaultApi = "http://127.0.0.1:8080";

    /// <summary>The first address (the one most messages name).</summary>
    public Uri Api => Apis[0];

    public static string ConfigFile => Environment.GetEnvironmentVariable("MESH_CLI_CONFIG") is { Length: > 0 } path ? path
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "mesh", "cli.toml");

    public static ApiConnection Resolve(string? apiFlag, string? tokenFlag, string? caFlag = null)
    {
        var (fileApi, fileToken, fileCa) = ReadConfigFile();
        var env = Environment.GetEnvironmentVariable("MESH_API");
        var (api, source) = apiFlag is { Length: > 0 } ? (apiFlag, "--api")
            : env is { Length: > 0 } ? (env, "MESH_API")
            : fileApi is not null ? (fileApi, ConfigFile)
            : (DefaultApi, "the default");
        var token = tokenFlag is { Length: > 0 } ? tokenFlag
            : Environment.GetEnvironmentVariable("MESH_API_TOKEN") is { Length: > 0 } t ? t
            : fileToken;
        var caPath = caFlag is { Length: > 0 } ? caFlag : Environment.GetEnvironmentVariable("MESH_CA") is { Length: > 0 } c ? c : fileCa;
        var uris = new List<Uri>();
        foreach (var one in api.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(one.Contains("://") ? one : $"http://{one}", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new AdminError($"the API address '{one}' (from {source}) is not an http(s) URL, e.g. {DefaultApi}", ExitCodes.Usage);
            uris.Add(uri);
        }
        if (uris.Count == 0) throw new AdminError($"no API address in '{api}' (from {source})", ExitCodes.Usage);
        X509Certificate2? ca = null;
        if (caPath is not null)
        {
            try { ca = X509Certificate2.CreateFromPem(File.ReadAllText(caPath)); }
            catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
            { throw new AdminError($"cannot read the CA certificate {caPath} (--ca, MESH_CA or ca in the CLI config): {e.Message}", ExitCodes.Usage); }
        }
        return new ApiConnection(uris, token, source, ca);
    }

    private static (string? Api, string? Token, string? Ca) ReadConfigFile()
    {
        var path = ConfigFile;
        if (!File.Exists(path)) return (null, null, null);
        TomlTable table;
        try { table = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(path), new TomlSerializerOptions { SourceName = path })!; }
        catch (TomlException e) { throw new AdminError($"{path}: {e.Message}", ExitCodes.Usage); }
        var api = table.TryGetValue("api", out var a) ? a as string : null;
        string? token = null;
        if (table.TryGetValue("token_file", out var f) && f is string tokenFile)
        {
            var full = Path.Combine(Path.GetDirectoryName(path)!, tokenFile);
            token = File.Exists(full) ? File.ReadLines(full).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0)
                : throw new AdminError($"{path}: token_file: {full} does not exist", ExitCodes.Usage);
        }
        var ca = table.TryGetValue("ca", out var c) && c is string caFile ? Path.Combine(Path.GetDirectoryName(path)!, caFile) : null;
        return (api, token, ca);
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
