using System.Globalization;
using System.Text.Json;

namespace Mesh.Cli.Admin;

/// <summary>Reading the API's JSON for tables: a missing or null value is "-", times are shown in UTC as "HH:mm:ss" or "MM-dd HH:mm".</summary>
public static class JsonText
{
    public static string Str(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ValueKind == JsonValueKind.String ? v.GetString()! : v.ToString() : "-";

    public static bool Bool(this JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    public static IEnumerable<JsonElement> Items(this JsonElement e, string? name = null) =>
        (name is null ? e : e.TryGetProperty(name, out var v) ? v : default) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];

    public static string Time(this JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.String || !DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, out var t))
            return "-";
        var utc = t.ToUniversalTime();
        return utc.Date == DateTimeOffset.UtcNow.Date ? utc.ToString("HH:mm:ss", CultureInfo.InvariantCulture) : utc.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture);
    }
}
