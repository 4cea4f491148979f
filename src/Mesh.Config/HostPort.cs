using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Mesh.Config;

/// <summary>A TCP endpoint written as HOST:PORT (IPv6 as [ADDR]:PORT). Host is an IP or a DNS name.</summary>
public sealed partial record HostPort(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses HOST:PORT; on failure says what is wrong, in words fit for an error message.</summary>
    public static bool TryParse(string? text, out HostPort? value, out string error)
    {
        value = null;
        error = "";
        if (string.IsNullOrWhiteSpace(text)) { error = "is empty; expected HOST:PORT"; return false; }
        string host, port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0) { error = $"'{text}' is not [IPV6]:PORT"; return false; }
            host = text[1..close];
            port = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out _)) { error = $"'{host}' in '{text}' is not an IPv6 address"; return false; }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':') != colon) { error = $"'{text}' is not HOST:PORT"; return false; }
            host = text[..colon];
            port = text[(colon + 1)..];
            if (!IPAddress.TryParse(host, out _) && !DnsName().IsMatch(host))
            { error = $"'{host}' in '{text}' is neither an IP address nor a host name"; return false; }
        }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
        { error = $"port '{port}' in '{text}' must be a number from 1 to 65535"; return false; }
        value = new HostPort(host, p);
        return true;
    }

    public static HostPort Parse(string text) =>
        TryParse(text, out var v, out var error) ? v! : throw new FormatException(error);

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex DnsName();
}
