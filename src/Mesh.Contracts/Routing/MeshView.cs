namespace Mesh.Contracts.Routing;

/// <summary>Asks the director for the whole mesh as it serves it (the API's services, entries, gateways and links).</summary>
public sealed record GetMeshView : IRoutingMessage
{
    public static readonly GetMeshView Instance = new();
}

public sealed record ServiceView(string Name, string Owner, string Target, string Check, IReadOnlyList<string> Entries);

public sealed record EntryView(string Gateway, string Listen, string Service, string Owner);

/// <param name="LastSeen">when the director last heard from it (a table request or a link report); null: not since it started</param>
public sealed record GatewayView(string Name, bool Core, IReadOnlyList<string> Links, DateTimeOffset? LastSeen);

/// <summary>A link paths may use, and its cost (docs/link-protocol.md, Link tests).</summary>
public sealed record LinkView(string A, string B, double Cost);

public sealed record MeshView(long Revision, IReadOnlyList<ServiceView> Services, IReadOnlyList<EntryView> Entries,
    IReadOnlyList<GatewayView> Gateways, IReadOnlyList<LinkView> Links) : IRoutingMessage;
