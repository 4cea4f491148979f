using System.Net;

namespace Mesh.Config;

/// <summary>What a valid config may still get wrong, said by --check and `mesh config check` (never an error).</summary>
public static class ConfigWarnings
{
    public static IEnumerable<string> Of(RouteMap map)
    {
        foreach (var e in map.Entries)
        {
            if (!map.AllowedClients(e).IsEmpty) continue;
            var host = e.Listen.Host;
            var open = IPAddress.TryParse(host, out var ip) ? IPAddress.Any.Equals(ip) || IPAddress.IPv6Any.Equals(ip) || !Networks.IsPrivate(ip) : host != "localhost";
            if (open)
                yield return $"entry {e.Listen} on {e.Gateway} (service {e.Service}) listens on a non-private address with no allow list: "
                             + "anyone who reaches it reaches the service; add allow = [\"CIDR\", ...] to the entry or [mesh] allow";
        }
    }
}
