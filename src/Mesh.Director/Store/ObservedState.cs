using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;

namespace Mesh.Director.Store;

/// <summary>
/// What the director observed of the mesh, as opposed to what its config says: when each gateway was last
/// heard from, the links and health each gateway last reported, and the recent events. Saved every few
/// seconds while it changes, so a director that restarts or takes over on another node starts from it
/// (gateways report again within 15 s in any case). <paramref name="Revision"/> is the config revision
/// it was observed under: the same fence as <see cref="DirectorState"/>.
/// </summary>
public sealed record ObservedState(
    long Revision,
    IReadOnlyList<GatewaySeen> Gateways,
    IReadOnlyList<LinkReport> Links,
    IReadOnlyList<HealthReport> Health,
    IReadOnlyList<MeshEvent> Events,
    DateTimeOffset SavedAt) : IStoredState;

/// <param name="ConnectedSince">null while it is lost</param>
public sealed record GatewaySeen(string Name, DateTimeOffset LastSeen, DateTimeOffset? ConnectedSince, bool Lost);
