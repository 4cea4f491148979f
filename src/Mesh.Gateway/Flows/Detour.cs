using Mesh.Contracts.Routing;

namespace Mesh.Gateway.Flows;

/// <summary>
/// The route table says to open a flow through <c>via</c>, but this gateway's link to it is known to be
/// down (the director republishes within seconds, but an edge whose control channel went through that very
/// gateway may wait longer for the new table). Meanwhile a flow goes through another core gateway whose
/// link works: that relay forwards it on its own table. The hop budget bounds any detour.
/// </summary>
public static class Detour
{
    /// <returns>the gateway to open the flow on: <paramref name="via"/> itself unless its link is known down and another works</returns>
    /// <param name="cameFrom">a relay never sends a flow back to the gateway it came from</param>
    public static GatewayInfo Pick(RouteTable table, string self, GatewayInfo via, Func<string, bool> knownDown, Func<string, bool> knownUp,
        string? cameFrom = null)
    {
        if (!knownDown(via.Name)) return via;
        return table.Gateways
            .Where(g => g.IsCore && g.Name != self && g.Name != via.Name && g.Name != cameFrom && knownUp(g.Name))
            .OrderBy(g => g.Name, StringComparer.Ordinal)
            .FirstOrDefault() ?? via;
    }

    public static GatewayInfo Pick(RouteTable table, GatewayInfo via, FlowContext ctx, string? cameFrom = null) =>
        Pick(table, ctx.Self, via, ctx.Links.KnownDown, ctx.Links.KnownUp, cameFrom);
}
