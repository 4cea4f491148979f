using System.Net;

namespace Mesh.Config;

/// <summary>Client networks in allow lists: CIDR ("10.0.0.0/8", "2001:db8::/32") or one address ("192.0.2.7").</summary>
public static class Networks
{
    /// <returns>the network, or default and the error</returns>
    public static (IPNetwork, string?) Parse(string text)
    {
        var t = text.Trim();
        if (!t.Contains('/') && IPAddress.TryParse(t, out var one))
            return (new IPNetwork(one, one.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128), null);
        if (IPNetwork.TryParse(t, out var net)) return (net, null);
        var slash = t.IndexOf('/');
        if (slash > 0 && IPAddress.TryParse(t[..slash], out var address) && int.TryParse(t[(slash + 1)..], out var bits)
            && bits >= 0 && bits <= (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            return (default, $"'{text}' has bits set beyond its /{bits} prefix; write {new IPNetwork(Mask(address, bits), bits)}");
        return (default, $"'{text}' is not a network: write CIDR such as \"10.0.0.0/8\" or \"2001:db8::/32\", or one address");
    }

    /// <summary>Is <paramref name="client"/> in one of <paramref name="allowed"/>? An empty list admits everyone. IPv4-mapped IPv6 counts as IPv4.</summary>
    public static bool Admits(IReadOnlyCollection<IPNetwork> allowed, IPAddress client)
    {
        if (allowed.Count == 0) return true;
        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        foreach (var n in allowed) if (n.Contains(address)) return true;
        return false;
    }

    /// <summary>Loopback, private (RFC 1918, unique-local), link-local or CGNAT: not reachable from the internet by itself.</summary>
    public static bool IsPrivate(IPAddress a)
    {
        if (IPAddress.IsLoopback(a)) return true;
        if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
        if (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            return a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6UniqueLocal;
        var b = a.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && b[1] >= 16 && b[1] < 32) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] >= 64 && b[1] < 128);
    }

    private static IPAddress Mask(IPAddress a, int bits)
    {
        var bytes = a.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(bits - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }
}

/// <summary>Certificate fingerprints as the config writes them (the same form `mesh cert show` prints).</summary>
public static class Fingerprints
{
    public static bool IsValid(string text) =>
        text.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) && text.Length == 71 && text[7..].All(Uri.IsHexDigit);
}
