using System.Globalization;
using System.Text.RegularExpressions;

namespace Mesh.Config;

/// <summary>Durations as written in the config: "500ms", "5s", "1m30s", "2h".</summary>
public static partial class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text) || !Whole().IsMatch(text)) return false;
        foreach (Match m in Part().Matches(text))
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            value += m.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                _ => TimeSpan.FromHours(n),
            };
        }
        return value > TimeSpan.Zero;
    }

    public static string Format(TimeSpan t) =>
        t.TotalMilliseconds < 1000 || t.Milliseconds != 0 ? $"{t.TotalMilliseconds:0}ms"
        : t.TotalSeconds < 60 || t.Seconds != 0 ? $"{t.TotalSeconds:0}s"
        : t.TotalMinutes < 60 || t.Minutes != 0 ? $"{t.TotalMinutes:0}m" : $"{t.TotalHours:0}h";

    [GeneratedRegex(@"^(\d+(\.\d+)?(ms|s|m|h))+$")] private static partial Regex Whole();
    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h)")] private static partial Regex Part();
}
