using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Mesh.Config;

/// <summary>
/// Reads one TOML table for validation: every getter records a <see cref="ConfigError"/> naming the
/// key's dotted path and line instead of throwing, so that one pass reports every problem in the file.
/// </summary>
internal sealed class TableReader(TomlTable table, string path, int headerLine, Context context)
{
    public string Path { get; } = path;
    public int HeaderLine { get; } = headerLine;
    private readonly HashSet<string> _read = [];

    public string KeyPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public int Line(string key) =>
        context.Metadata.TryGetProperties(table, out var props) && props!.TryGetProperty(key, out var m)
            ? m.Span.Start.Line + 1
            : HeaderLine;

    public void Error(string key, string message) => context.Errors.Add(new(context.File, Line(key), KeyPath(key), message));
    public void ErrorAtHeader(string key, string message) => context.Errors.Add(new(context.File, HeaderLine, KeyPath(key), message));

    public bool Has(string key) { _read.Add(key); return table.ContainsKey(key); }

    public IEnumerable<string> Keys => table.Keys;

    private object? Raw(string key, bool required)
    {
        _read.Add(key);
        if (table.TryGetValue(key, out var v)) return v;
        if (required) ErrorAtHeader(key, "is required");
        return null;
    }

    public string? String(string key, bool required = false)
    {
        var v = Raw(key, required);
        if (v is null or string) return (string?)v;
        Error(key, $"must be a string, not {Describe(v)}");
        return null;
    }

    public string? Name(string key, bool required = false)
    {
        var v = String(key, required);
        if (v is null || IsName(v)) return v;
        Error(key, $"'{v}' is not a valid name: {Names.Rule}");
        return null;
    }

    public HostPort? Address(string key, bool required = false)
    {
        var v = String(key, required);
        if (v is null) return null;
        if (HostPort.TryParse(v, out var hp, out var error)) return hp;
        Error(key, error);
        return null;
    }

    public TimeSpan? Duration(string key)
    {
        var v = String(key);
        if (v is null) return null;
        if (Durations.TryParse(v, out var t)) return t;
        Error(key, $"'{v}' is not a duration: write e.g. \"500ms\", \"5s\", \"1m\"");
        return null;
    }

    public int? Int(string key, int min, int max)
    {
        var v = Raw(key, required: false);
        if (v is null) return null;
        if (v is long n and >= int.MinValue and <= int.MaxValue && n >= min && n <= max) return (int)n;
        Error(key, v is long ? $"must be from {min} to {max}, not {v}" : $"must be an integer, not {Describe(v)}");
        return null;
    }

    /// <summary>An array of strings, each turned into T by <paramref name="parse"/> (which returns an error or null).</summary>
    public List<T>? Array<T>(string key, Func<string, (T? value, string? error)> parse)
    {
        var v = Raw(key, required: false);
        if (v is null) return null;
        if (v is not TomlArray items) { Error(key, $"must be an array of strings, not {Describe(v)}"); return null; }
        var result = new List<T>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not string s) { Error(key, $"item {i + 1} must be a string, not {Describe(items[i])}"); continue; }
            var (value, error) = parse(s);
            if (error is not null) Error(key, error);
            else result.Add(value!);
        }
        return result;
    }

    public TableReader? Table(string key, bool required = false)
    {
        var v = Raw(key, required);
        if (v is null) return null;
        if (v is TomlTable t) return new TableReader(t, KeyPath(key), Line(key), context);
        Error(key, $"must be a table, not {Describe(v)}");
        return null;
    }

    /// <summary>Sub-tables keyed by name, e.g. [gateways.site-a]; names are checked.</summary>
    public IEnumerable<(string name, TableReader table)> NamedTables(string key)
    {
        var parent = Table(key);
        if (parent is null) yield break;
        foreach (var name in parent.Keys.ToList())
        {
            var child = parent.Table(name);
            if (child is null) continue;
            if (!IsName(name)) parent.Error(name, $"'{name}' is not a valid name: {Names.Rule}");
            else yield return (name, child);
        }
    }

    /// <summary>Elements of an array of tables, e.g. [[entries]], each with the line of its own header.</summary>
    public IEnumerable<TableReader> TableArray(string key)
    {
        var v = Raw(key, required: false);
        if (v is null) yield break;
        if (v is not TomlTableArray items) { Error(key, $"must be an array of tables ([[{key}]]), not {Describe(v)}"); yield break;}
        var headers = context.TableArrayHeaderLines(KeyPath(key));
        for (var i = 0; i < items.Count; i++)
        {
            var line = i < headers.Count ? headers[i] : Line(key);
            yield return new TableReader(items[i], $"{KeyPath(key)}[{i}]", line, context);
        }
    }

    /// <summary>Reports every key that no getter asked for: typos must not pass silently.</summary>
    /// <summary>Every key of the table that is not in <paramref name="allowed"/> (or was not read) is an error naming the allowed ones.</summary>
    public void RejectUnknownKeys(ConfigTable allowed)
    {
        foreach (var key in table.Keys.Where(k => !_read.Contains(k) || !allowed.Keys.Contains(k)))
            Error(key, $"unknown key (allowed here: {allowed})");
    }

    public static bool IsName(string s) => Names.IsValid(s);

    private static string Describe(object? v) => v switch
    {
        string s => $"the string \"{s}\"",
        long n => $"the integer {n}",
        double d => $"the number {d}",
        bool b => b ? "true" : "false",
        TomlTable => "a table",
        TomlArray or TomlTableArray => "an array",
        null => "nothing",
        _ => $"a {v.GetType().Name}",
    };
}

/// <summary>What every reader of one file shares: the file name, the spans, the errors found so far.</summary>
internal sealed class Context(string file, TomlMetadataStore metadata, Func<string, IReadOnlyList<int>> tableArrayHeaderLines)
{
    public string File { get; } = file;
    public TomlMetadataStore Metadata { get; } = metadata;
    public List<ConfigError> Errors { get; } = [];
    public IReadOnlyList<int> TableArrayHeaderLines(string key) => tableArrayHeaderLines(key);
}
