using System.Text;

namespace Mesh.Contracts.Logging;

/// <summary>Makes text from the network safe to put in a log line: no line breaks or terminal escapes, bounded length.</summary>
public static class LogText
{
    /// <summary>Control characters as \n, \r, \t or \u00XX; at most <paramref name="max"/> characters (then "…").</summary>
    public static string Safe(string? text, int max = 200)
    {
        if (text is null) return "";
        var needs = text.Length > max;
        foreach (var c in text)
            if (char.IsControl(c) || c is '\u2028' or '\u2029') { needs = true; break; }
        if (!needs) return text;
        var b = new StringBuilder(Math.Min(text.Length, max) + 8);
        foreach (var c in text)
        {
            if (b.Length >= max) { b.Append('…'); break; }
            b.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) || c is '\u2028' or '\u2029' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return b.ToString();
    }

    /// <summary>A length of time as a person says it: "0.4s", "12s", "3m05s", "2h10m".</summary>
    public static string Duration(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        if (t.TotalSeconds < 10) return $"{Math.Floor(t.TotalSeconds * 10) / 10:0.0}s";
        if (t.TotalMinutes < 2) return $"{Math.Floor(t.TotalSeconds):0}s";
        if (t.TotalHours < 2) return $"{Math.Floor(t.TotalMinutes):0}m{t.Seconds:00}s";
        return $"{Math.Floor(t.TotalHours):0}h{t.Minutes:00}m";
    }
}
