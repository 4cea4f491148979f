using Mesh.Contracts.Logging;
using Mesh.Contracts.Routing;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Gateway.Flows;

/// <summary>A flow the owner refuses: who it came from, and why (for the refusal, the log and the metrics).</summary>
public sealed record Denied(string Origin, string Message);

/// <summary>
/// Pure: who may open a flow to a service (docs/security.md). The origin is the gateway whose entry the
/// client used. It is proven when the flow arrives straight from that gateway (the link's certificate); a
/// relay's word about it is believed only from a core gateway (core certificate, declared core). The owner
/// then serves only origins in the service's policy: its <c>allow</c> list, or the gateways with an entry for it.
/// </summary>
public static class FlowPolicy
{
    /// <summary>Null if the flow may go; otherwise why not.</summary>
    /// <param name="from">the gateway the Open came from, as its certificate proved it</param>
    public static Denied? Check(GatewayIdentity from, Open open, RouteTable table, MeshTrust trust)
    {
        if (ForgedOrigin(from, open, trust) is { } forged) return new Denied(from.Name, forged);
        var origin = open.Origin;
        var allowed = table.AllowedOrigins(open.Service) ?? [];
        return allowed.Contains(origin) ? null
            : new Denied(origin, $"gateway '{LogText.Safe(origin, 80)}' may not reach {open.Service} (its policy allows {(allowed.Count == 0 ? "no gateway" : string.Join(", ", allowed))})");
    }

    /// <summary>Why the origin an Open claims cannot be believed from the link it came on, or null.</summary>
    public static string? ForgedOrigin(GatewayIdentity from, Open open, MeshTrust trust)
    {
        if (open.Origin == from.Name) return null;
        if (from.Role == GatewayRole.Core && trust.IsDeclaredCore(from.Name)) return null;   // a relay carrying another's flow
        return $"'{from.Name}' claims the flow comes from '{LogText.Safe(open.Origin, 80)}'; only a core gateway relays flows of others";
    }
}
