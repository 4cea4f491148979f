using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;
using Tomlyn.Syntax;

namespace Mesh.Config;

/// <summary>The result of reading a config: a map, or every error found in the file.</summary>
public sealed record LoadResult(RouteMap? Map, IReadOnlyList<ConfigError> Errors)
{
    public bool IsValid => Map is not null;
}

/// <summary>
/// TOML text -> validated <see cref="RouteMap"/>. Stage 1 reads the file into Tomlyn's model with spans,
/// stage 2 walks it and checks every key, collecting all errors (cf. YARP's ConfigValidator).
/// </summary>
public static class RouteMapLoader
{
    public static LoadResult LoadFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { return new(null, [new ConfigError(path, 0, "", $"cannot read the file: {e.Message}")]); }
        return Load(text, path);
    }

    public static LoadResult Load(string text, string file)
    {
        var syntax = SyntaxParser.Parse(text, file);
        if (syntax.HasErrors)
            return new(null, syntax.Diagnostics.Where(d => d.Kind == DiagnosticMessageKind.Error)
                .Select(d => new ConfigError(file, d.Span.Start.Line + 1, "", d.Message)).ToList());
        if (ScatteredTableArrays(syntax, file) is { Count: > 0 } scattered) return new(null, scattered);

        var metadata = new TomlMetadataStore();
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions { SourceName = file, MetadataStore = metadata })!;
        }
        catch (TomlException e)
        {   // semantic TOML errors the syntax pass lets through, e.g. a key defined twice
            return new(null, [new ConfigError(file, e.Line ?? 0, "", StripLocation(e.Message))]);
        }

        var context = new Context(file, metadata, key => TableArrayHeaders(syntax, key));
        var map = Validate(new TableReader(root, "", 1, context), text);
        return context.Errors.Count == 0 ? new(map, []) : new(null, [.. context.Errors.OrderBy(e => e.Line)]);
    }

    private static RouteMap Validate(TableReader root, string text)
    {
        var (meshName, settings) = root.Table("mesh", required: true) is { } mesh ? ReadMesh(mesh) : (null, MeshSettings.Default);

        var gateways = ImmutableSortedDictionary.CreateBuilder<string, GatewayConfig>(StringComparer.Ordinal);
        foreach (var (name, t) in root.NamedTables("gateways"))
            gateways[name] = ReadGateway(name, t);

        var services = ImmutableSortedDictionary.CreateBuilder<string, ServiceConfig>(StringComparer.Ordinal);
        var declaredServices = new SortedSet<string>(StringComparer.Ordinal);   // also those with errors: no follow-on errors
        foreach (var (name, t) in root.NamedTables("services"))
        {
            declaredServices.Add(name);
            if (ReadService(name, t, gateways) is { } s) services[name] = s;
        }

        var entries = ImmutableArray.CreateBuilder<EntryConfig>();
        var listenSeen = new Dictionary<(string, HostPort), string>();
        foreach (var t in root.TableArray("entries"))
            if (ReadEntry(t, gateways, declaredServices, listenSeen) is { } e) entries.Add(e);

        root.RejectUnknownKeys(ConfigKeys.Top);
        return new RouteMap(meshName ?? "", settings, gateways.ToImmutable(), services.ToImmutable(), entries.ToImmutable(),
            text, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))));
    }

    private static (string?, MeshSettings) ReadMesh(TableReader t)
    {
        var d = MeshSettings.Default;
        var name = t.Name("name", required: true);
        var settings = new MeshSettings(
            t.Int("pool_size", 0, 1000) ?? d.PoolSize,
            t.Duration("flow_idle_timeout") ?? d.FlowIdleTimeout,
            t.Duration("dial_timeout") ?? d.DialTimeout)
        {
            Revoked = [.. (t.Array<string>("revoked", Fingerprint) ?? []).Distinct()],
            Allow = [.. t.Array<System.Net.IPNetwork>("allow", Networks.Parse) ?? []],
            LinkMode = ReadLinkMode(t) ?? d.LinkMode,
        };
        t.RejectUnknownKeys(ConfigKeys.Mesh);
        return (name, settings);
    }

    private static string? ReadLinkMode(TableReader t)
    {
        var mode = t.String("link_mode");
        if (mode is null or "pool" or "mux") return mode;
        t.Error("link_mode", $"must be \"pool\" (a connection per flow) or \"mux\" (flows as streams of a few connections), not \"{mode}\"");
        return null;
    }

    private static GatewayConfig ReadGateway(string name, TableReader t)
    {
        var links = t.Array<HostPort>("links", s => HostPort.TryParse(s, out var hp, out var err) ? (hp, null) : (null, err)) ?? [];
        GatewayKind? role = t.String("role") switch
        {
            null => null,
            "core" => GatewayKind.Core,
            "edge" => GatewayKind.Edge,
            var other => Invalid(other),
        };
        if (role == GatewayKind.Core && links.Count == 0)
            t.Error("role", "a core gateway needs links (the addresses other gateways dial): add links = [\"HOST:PORT\"]");
        t.RejectUnknownKeys(ConfigKeys.Gateway);
        return new GatewayConfig(name, [.. links], role);

        GatewayKind? Invalid(string text)
        {
            t.Error("role", $"'{text}' is not a role: write \"core\" (a cluster member; needs links) or \"edge\" (not a cluster member; with links, other edges link with it directly)");
            return null;
        }
    }

    private static ServiceConfig? ReadService(string name, TableReader t, IDictionary<string, GatewayConfig> gateways)
    {
        var gateway = t.Name("gateway", required: true);
        if (gateway is not null && !gateways.ContainsKey(gateway))
            t.Error("gateway", $"unknown gateway '{gateway}' (declared: {List(gateways.Keys)})");
        var target = t.Address("target", required: true);
        var check = t.Table("check") is { } c ? ReadCheck(c) : HealthCheck.DefaultTcp;
        var allow = t.Array<string>("allow", g => !Names.IsValid(g) ? (null, $"'{g}' is not a valid gateway name: {Names.Rule}")
            : !gateways.ContainsKey(g) ? (null, $"unknown gateway '{g}' (declared: {List(gateways.Keys)})") : (g, null));
        var linkMode = ReadLinkMode(t);
        t.RejectUnknownKeys(ConfigKeys.Service);
        return gateway is null || target is null || check is null ? null
            : new ServiceConfig(name, gateway, target, check) { Allow = [.. (allow ?? []).Distinct()], LinkMode = linkMode };
    }

    private static HealthCheck? ReadCheck(TableReader t)
    {
        var kindText = t.String("kind", required: true);
        CheckKind? kind = kindText switch
        {
            "none" => CheckKind.None, "tcp" => CheckKind.Tcp, "redis" => CheckKind.Redis,
            "http" => CheckKind.Http, "mysql" => CheckKind.Mysql, _ => null,
        };
        if (kindText is not null && kind is null)
            t.Error("kind", $"unknown check kind '{kindText}' (known: none, tcp, redis, http, mysql)");
        var interval = t.Duration("interval") ?? HealthCheck.DefaultInterval;
        var timeout = t.Duration("timeout") ?? HealthCheck.DefaultTimeout;
        var rise = t.Int("rise", 1, 100) ?? HealthCheck.DefaultRise;
        var fall = t.Int("fall", 1, 100) ?? HealthCheck.DefaultFall;
        var path = t.String("path");
        if (path is not null && kind is not CheckKind.Http) t.Error("path", "is only used by checks of kind \"http\"");
        if (path is not null && !path.StartsWith('/')) t.Error("path", $"'{path}' must start with '/'");
        var passwordEnv = t.String("password_env");
        if (passwordEnv is not null && kind is not CheckKind.Redis) t.Error("password_env", "is only used by checks of kind \"redis\"");
        if (passwordEnv is not null && !System.Text.RegularExpressions.Regex.IsMatch(passwordEnv, "^[A-Za-z_][A-Za-z0-9_]*$"))
            t.Error("password_env", $"'{passwordEnv}' is not an environment variable name (letters, digits, _)");
        var user = t.String("user");
        if (user is not null && kind is not CheckKind.Mysql)
            t.Error("user", "is only used by checks of kind \"mysql\" (the password-less user the check logs in as)");
        if (user is not null && !IsMysqlUser(user))
            t.Error("user", $"'{user}' is not a MySQL user name (1-80 characters, no spaces or control characters)");
        t.RejectUnknownKeys(ConfigKeys.Check);
        return kind is null ? null : new HealthCheck(kind.Value, interval, timeout, rise, fall, kind == CheckKind.Http ? path ?? "/" : null, passwordEnv,
            kind == CheckKind.Mysql ? user : null);
    }

    /// <summary>What the check can send as a login name: MariaDB allows 80 characters (MySQL 32); NUL ends it on the wire.</summary>
    private static bool IsMysqlUser(string user) =>
        user.Length is >= 1 and <= 80 && !user.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));

    private static EntryConfig? ReadEntry(TableReader t, IDictionary<string, GatewayConfig> gateways,
        ISet<string> services, Dictionary<(string, HostPort), string> listenSeen)
    {
        var gateway = t.Name("gateway", required: true);
        var listen = t.Address("listen", required: true);
        var service = t.Name("service", required: true);
        if (gateway is not null && !gateways.ContainsKey(gateway))
            t.Error("gateway", $"unknown gateway '{gateway}' (declared: {List(gateways.Keys)})");
        if (service is not null && !services.Contains(service))
            t.Error("service", $"unknown service '{service}' (declared: {List(services)})");
        if (gateway is not null && listen is not null)
        {
            if (listenSeen.TryGetValue((gateway, listen), out var first))
                t.Error("listen", $"{listen} is already used on gateway '{gateway}' by {first}");
            else listenSeen[(gateway, listen)] = t.Path;
            if (gateways.TryGetValue(gateway, out var g) && g.Links.Contains(listen))
                t.Error("listen", $"{listen} is the link address of gateway '{gateway}'");
        }
        var allow = t.Array<System.Net.IPNetwork>("allow", Networks.Parse);
        var max = t.Int("max_connections", 1, 1_000_000);
        t.RejectUnknownKeys(ConfigKeys.Entry);
        return gateway is null || listen is null || service is null ? null
            : new EntryConfig(gateway, listen, service) { Allow = [.. allow ?? []], MaxConnections = max ?? MeshSettings.DefaultMaxConnections };
    }

    private static (string?, string?) Fingerprint(string s) =>
        Mesh.Config.Fingerprints.IsValid(s) ? (s.ToLowerInvariant(), null)
        : (null, $"'{s}' is not a certificate fingerprint: write \"sha256:\" and 64 hex digits, as `mesh cert show FILE` prints it");

    /// <summary>1-based lines of each [[key]] header, in order: a table-array element has no key span of its own.</summary>
    private static IReadOnlyList<int> TableArrayHeaders(DocumentSyntax doc, string key) =>
        doc.Tables.OfType<TableArraySyntax>()
            .Where(t => t.Name is not null && Normalize(t.Name.ToString()) == key)
            .Select(t => t.Span.Start.Line + 1).ToList();

    /// <summary>
    /// Tomlyn 2.10.2 keeps only the last run of [[key]] blocks when another table comes between two of
    /// them: the earlier elements would vanish without a word (found when a bench config lost an entry).
    /// Such a file is refused, naming both places, until the reader is fixed.
    /// </summary>
    private static List<ConfigError> ScatteredTableArrays(DocumentSyntax doc, string file)
    {
        var errors = new List<ConfigError>();
        var firstLine = new Dictionary<string, int>();
        string? openArray = null;                  // the [[key]] whose elements the current table belongs to
        (string Name, int Line)? lastOther = null; // the last table that closed it
        foreach (var table in doc.Tables)
        {
            var name = table.Name is null ? "" : Normalize(table.Name.ToString());
            var line = table.Span.Start.Line + 1;
            if (openArray is not null && name.StartsWith(openArray + ".", StringComparison.Ordinal)) continue;   // part of the element
            if (table is not TableArraySyntax)
            {
                (openArray, lastOther) = (null, (name, line));
                continue;
            }
            if (name != openArray && firstLine.TryGetValue(name, out var first) && lastOther is { } other)
                errors.Add(new ConfigError(file, line, name,
                    $"this [[{name}]] is separated from the [[{name}]] at line {first} by [{other.Name}] at line {other.Line}; " +
                    $"keep all [[{name}]] blocks together (the TOML reader would drop the earlier ones)"));
            firstLine.TryAdd(name, line);
            openArray = name;
        }
        return errors;
    }

    private static string Normalize(string keyText) => new(keyText.Where(c => !char.IsWhiteSpace(c) && c != '"').ToArray());

    private static string List(IEnumerable<string> names) => names.Any() ? string.Join(", ", names) : "none";

    private static string StripLocation(string message) =>
        message.IndexOf(" : error : ", StringComparison.Ordinal) is var i and >= 0 ? message[(i + 11)..] : message;
}
