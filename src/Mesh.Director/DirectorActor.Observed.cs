using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Logging;
using Mesh.Director.Routing;
using Mesh.Director.Store;

namespace Mesh.Director;

/// <summary>
/// What the director observed (gateways last seen, reported links and health, events): written to the
/// store at most every <see cref="StoreCheck"/> while it changes, and restored by a director that starts
/// or takes over, so the API does not forget the mesh's recent history on a failover.
/// </summary>
public sealed partial class DirectorActor
{
    /// <param name="Accepted">false when the store holds one observed under a newer revision</param>
    /// <param name="Reserved">the table counter reserved with it (<see cref="ObservedState.PathsReserved"/>)</param>
    private sealed record ObservedSaved(long Revision, long Reserved, bool Accepted, string? Error);

    private bool _observedChanged;

    private void ObservedChanged() => _observedChanged = true;

    private void SaveObservedIfChanged()
    {
        if (!_observedChanged || _current is null || _observedSaving) return;   // one write at a time: a reservation is never overtaken by an older one
        _observedChanged = false;
        _observedSaving = true;
        var state = new ObservedState(_revision, _presence.ToStored(), _reports.Values.ToArray(), _health.Reports.ToArray(), _events.ToArray(),
            Now) { PathsReserved = Reservation };
        SaveObservedAsync(_store, state, _stopping.Token).PipeTo(Self);
    }

    private static async Task<ObservedSaved> SaveObservedAsync(IDirectorStore store, ObservedState state, CancellationToken ct)
    {
        try { return new ObservedSaved(state.Revision, state.PathsReserved, await store.SaveObservedAsync(state, ct), null); }
        catch (Exception e) { return new ObservedSaved(state.Revision, state.PathsReserved, false, e.GetBaseException().Message); }
    }

    /// <summary>
    /// A director that starts takes what the last one observed (gateways report again within 15 s anyway),
    /// through the same checks as a live report: a store is trusted no more than a gateway. What fails them
    /// (a gateway not declared, a report about others, a sequence from no real clock) is dropped and counted.
    /// </summary>
    private void Restore(ObservedState observed)
    {
        var map = _map!;
        var now = Now;
        var dropped = 0;
        foreach (var g in observed.Gateways.Where(g => map.Gateways.ContainsKey(g.Name) && g.LastSeen <= now + ReportAdmission.ClockSlack))
            _presence.Restore(g);
        foreach (var r in observed.Links)
            if (ReportAdmission.Admit(r, map, now, out _) is { } admitted) _reports[admitted.Gateway] = admitted;
            else dropped++;
        foreach (var r in observed.Health)
            if (ReportAdmission.Admit(r, map, now, out _) is { } admitted) _health.Restore(admitted);
            else dropped++;
        _events.Restore(observed.Events);
        ResetLinks(map);
        RecomputeDown();
        _log.Info("director: restored what the previous director observed until {0:HH:mm:ss} UTC: {1}, {2}{3}", observed.SavedAt,
            Plural.Count(observed.Gateways.Count, "gateway"), Plural.Count(observed.Events.Count, "event"), dropped > 0 ? $"; dropped {Plural.Count(dropped, "report")} that fail the checks" : "");
        if (dropped > 0) _log.Warning("director: the stored observed state held {0} that are not about their sender or not from a real clock; dropped", Plural.Count(dropped, "report"));
    }
}
