using Mesh.Config;

namespace Mesh.Gateway.Link;

/// <summary>
/// Pure: which of a core gateway's link addresses in the config (where the others dial it) it cannot be
/// serving, given the addresses it binds (--listen) and the host it is known by from outside (--advertise, a
/// 1:1 NAT). An address is served by a bound one with its port on the same host, on a wildcard (0.0.0.0, [::]),
/// or on any host when the address's host is the advertised one (the NAT maps that host to this one).
/// </summary>
public static class LinkAddressCheck
{
    public static IReadOnlyList<string> Unserved(IEnumerable<string> declared, IReadOnlyList<HostPort> bound, string? advertised)
    {
        var unserved = new List<string>();
        foreach (var text in declared)
        {
            if (!HostPort.TryParse(text, out var address, out _)) continue;
            var served = bound.Any(b => b.Port == address!.Port
                && (Same(b.Host, address.Host) || IsWildcard(b.Host) || (advertised is not null && Same(address.Host, advertised))));
            if (!served) unserved.Add(text);
        }
        return unserved;
    }

    private static bool Same(string a, string b) => string.Equals(a.Trim('[', ']'), b.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);

    private static bool IsWildcard(string host) => host.Trim('[', ']') is "0.0.0.0" or "::";
}
