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

/// <summary>The director answered a request about the route table (the control plane's watchdog counts it).</summary>
internal sealed record DirectorAnswered
{
    public static readonly DirectorAnswered Instance = new();
}

/// <summary>The data plane stopped its link to this peer: its state is no longer reported.</summary>
internal sealed record LinkForgotten(string Peer);

/// <summary>The data plane stopped checking this service: its health is no longer reported.</summary>
internal sealed record ServiceForgotten(string Service);
