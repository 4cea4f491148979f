using Mesh.Contracts.Routing;

namespace Mesh.Gateway;

/// <summary>Local query: the route table this gateway applies now (null before the first one arrives).</summary>
public sealed record GetCurrentRouteTable
{
    public static readonly GetCurrentRouteTable Instance = new();
}

public sealed record CurrentRouteTable(RouteTable? Table);

/// <summary>Published on the local event stream each time the gateway applies a new table.</summary>
public sealed record RouteTableApplied(string Gateway, RouteTable Table);
