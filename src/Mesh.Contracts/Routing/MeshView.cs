using Mesh.Contracts.Health;

namespace Mesh.Contracts.Routing;

/// <summary>Asks the director for the whole mesh as it serves it (the API's services, entries, gateways, links, health and events).</summary>
public sealed record GetMeshView : IRoutingMessage
{
    public static readonly GetMeshView Instance = new();
}

/// <param name="Health">up, down, or unknown (not probed yet, check "none", or its owner is not heard from)</param>
/// <param name="HealthReason">why it is down or unknown</param>
/// <param name="HealthSince">when the owner saw it change to this state</param>
public sealed record ServiceView(string Name, string Owner, string Target, string Check, IReadOnlyList<string> Entries,
    string Health, string? HealthReason, DateTimeOffset? HealthSince);

public sealed record EntryView(string Gateway, string Listen, string Service, string Owner);

/// <param name="LastSeen">when the director last heard from it (a table request or a report); null: not since it started</param>
/// <param name="Connected">heard from within the last <c>GatewayLostAfter</c></param>
/// <param name="Since">connected: since when, without a loss; not connected: when it was last heard from</param>
/// <param name="Version">the Mesh version it runs, from its last link report</param>
public sealed record GatewayView(string Name, bool Core, IReadOnlyList<string> Links, DateTimeOffset? LastSeen, bool Connected, DateTimeOffset? Since,
    string? Version);

/// <summary>A link paths may use, and its cost (docs/link-protocol.md, Link tests).</summary>
public sealed record LinkView(string A, string B, double Cost);

/// <summary>Something an operator should know about (service-down, service-up, gateway-lost, gateway-back, reload-applied, reload-failed).</summary>
/// <param name="Level">warning or info</param>
/// <param name="Subject">the service, gateway or config file it is about</param>
public sealed record MeshEvent(DateTimeOffset At, string Level, string Kind, string Subject, string Message);

public sealed record MeshView(long Revision, IReadOnlyList<ServiceView> Services, IReadOnlyList<EntryView> Entries,
    IReadOnlyList<GatewayView> Gateways, IReadOnlyList<LinkView> Links, IReadOnlyList<MeshEvent> Events) : IRoutingMessage;
