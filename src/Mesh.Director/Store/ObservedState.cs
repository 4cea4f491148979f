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
    DateTimeOffset SavedAt) : IStoredState
{
    /// <summary>
    /// The highest table counter of <see cref="Revision"/> the director may publish (ADR 0013): it publishes a
    /// higher one only once the store holds a higher reservation, so a director that starts or takes over
    /// numbers its tables above this and versions only grow. 0 in a state written before Mesh kept it.
    /// </summary>
    public long PathsReserved { get; init; }
}

/// <param name="ConnectedSince">null while it is lost</param>
public sealed record GatewaySeen(string Name, DateTimeOffset LastSeen, DateTimeOffset? ConnectedSince, bool Lost);
