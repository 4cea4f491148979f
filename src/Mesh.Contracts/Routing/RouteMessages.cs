namespace Mesh.Contracts.Routing;

/// <summary>
/// Fetch a gateway's table by version. If the director's version differs from <paramref name="KnownVersion"/>
/// it answers at once; otherwise it holds the request up to <paramref name="Wait"/> (a long poll) and answers
/// <see cref="RouteTableUnchanged"/>. Edges behind NAT use this because the director never pushes to them.
/// </summary>
public sealed record GetRouteTable(string Gateway, long KnownVersion, TimeSpan Wait) : IRoutingMessage
{
    /// <summary>
    /// The asker applies a <see cref="RouteTableDelta"/> to the table it holds. False from a gateway older than deltas
    /// (the JSON lacks the field): it gets whole tables, as before.
    /// </summary>
    public bool Deltas { get; init; }
}

/// <summary>The answer when the gateway's table is still the one it knows.</summary>
public sealed record RouteTableUnchanged(long Version) : IRoutingMessage;

/// <summary>The answer while the director has no valid map (e.g. its config failed to load).</summary>
public sealed record RouteTableUnavailable(string Reason) : IRoutingMessage;

/// <summary>Published on <see cref="Topics.Routes"/> when the route map changes; core gateways then fetch.</summary>
public sealed record RouteMapChanged(long Version) : IRoutingMessage;

/// <summary>
/// The API asks for a gateway's table (GET /v1/routes/NAME): answered with <see cref="GatewayRoutes"/>; an
/// undeclared name costs nothing (no table is built or kept, nothing is logged) and a gateway that asks
/// on its own is not "heard from" by this.
/// </summary>
public sealed record GetGatewayRoutes(string Gateway) : IRoutingMessage;

/// <param name="Table">null when the config does not declare the gateway</param>
public sealed record GatewayRoutes(RouteTable? Table) : IRoutingMessage;
