using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Routing;
using Mesh.Director.Store;

namespace Mesh.Director;

/// <summary>
/// Table versions only grow, across directors too (ADR 0013). A version is the revision and a counter
/// ("v1.3"); the store holds, with the observed state, the highest counter this director may publish
/// (<see cref="ObservedState.PathsReserved"/>). A director that starts or takes over stores a reservation
/// above the previous one before its first table, and numbers its tables above what the previous one
/// reserved, so whatever that one published (stored or not, as it crashed) orders before them. Publishing
/// writes nothing: the reservation runs <see cref="ReserveAhead"/> counters ahead and is renewed in the
/// background; a table waits for the store only when a burst of changes outruns it.
/// </summary>
public sealed partial class DirectorActor
{
    /// <summary>How far ahead of the published counter the store holds a reservation (a failover skips at most this many).</summary>
    public const int ReserveAhead = 8;

    /// <summary>Where a director starts counting the tables of the stored revision, and what it reserved before its first.</summary>
    /// <param name="Reserved">the reservation the store holds for this director (0 when it could not be stored)</param>
    /// <param name="Error">why the reservation could not be stored: versions may repeat if this director dies before the store is back</param>
    private sealed record StartCounter(long Revision, long First, long Reserved, string? Error);

    private StartCounter? _startCounter;
    /// <summary>The highest counter of <see cref="_revision"/> the store holds as reserved: published freely up to it.</summary>
    private long _reserved;
    /// <summary>A new table waits for a reservation to be stored.</summary>
    private bool _held;
    private bool _observedSaving;

    /// <summary>
    /// At start or takeover, before the first table: the previous director reserved counters up to N for the
    /// stored revision, so this one counts from N + 1 and stores its own reservation above that first. Storing
    /// a revision reserves its counters 0 to <see cref="ReserveAhead"/> (its first tables never wait), so N is
    /// at least that. A new mesh (nothing stored) starts its first revision at counter 0 ("v1").
    /// </summary>
    private static async Task<StartCounter?> ReserveAtStartAsync(IDirectorStore store, DirectorState? stored, ObservedState? observed, DateTimeOffset now, CancellationToken ct)
    {
        if (stored is null || !DirectorState.IsPlausible(stored.Revision)) return null;
        var kept = observed is { } o && o.Revision == stored.Revision ? o : null;
        var first = Math.Max(kept?.PathsReserved ?? 0, ReserveAhead) + 1;
        var reservation = (kept ?? new ObservedState(stored.Revision, [], [], [], [], now)) with { PathsReserved = first + ReserveAhead };
        try
        {
            return await store.SaveObservedAsync(reservation, ct)
                ? new StartCounter(stored.Revision, first, first + ReserveAhead, null)
                : new StartCounter(stored.Revision, first, 0, "the store holds an observed state of a newer revision");
        }
        catch (Exception e) { return new StartCounter(stored.Revision, first, 0, e.GetBaseException().Message); }
    }

    /// <summary>Where a revision's tables start counting: above the previous director's reservation for the revision it took over, else 0.</summary>
    private void StartCounting(long revision)
    {
        var start = _startCounter is { } s && s.Revision == revision ? s : null;
        _startCounter = null;
        _pathsEpoch = start?.First ?? 0;
        _reserved = start is null ? ReserveAhead : Math.Max(start.Reserved, start.First);   // a new revision: reserved by its own write
        if (start is null) return;
        if (start.Error is { } error)
            _log.Warning("director: could not store the table counter reserved for revision v{0} ({1}); numbering its tables from v{0}.{2} anyway " +
                         "(they may repeat a number if this director dies before the store is back)", revision, error, start.First);
        else _log.Info("director: numbering the tables of revision v{0} from v{0}.{1}, after every table a previous director could have published", revision, start.First);
    }

    /// <summary>A new version: published at once when the store holds a reservation for its counter, else once it does (or cannot be reached).</summary>
    private void Republish()
    {
        if (_pathsEpoch > _reserved && !_storeDown)
        {   // a burst outran the reservation: the table waits for one write (gateways keep theirs meanwhile)
            _held = true;
            SaveObserved();
            return;
        }
        _held = false;
        _version = TableVersion.Of(_revision, _pathsEpoch);
        _tables.Publish(_version, _down);
        foreach (var w in _waiters) w.ReplyTo.Tell(TableOrUnchanged(w.Request));
        _waiters.Clear();
        _mediator?.Tell(new Akka.Cluster.Tools.PublishSubscribe.Publish(Mesh.Contracts.Topics.Routes, new RouteMapChanged(_version)));
        KeepReservedAhead();
    }

    private void KeepReservedAhead()
    {
        if (_reserved - _pathsEpoch < ReserveAhead / 2) SaveObserved();
    }

    private void SaveObserved()
    {
        _observedChanged = true;
        SaveObservedIfChanged();
    }

    /// <summary>The reservation to store with the observed state: never below one already stored.</summary>
    private long Reservation => Math.Max(_reserved, _pathsEpoch + ReserveAhead);

    private void OnObservedSaved(ObservedSaved m)
    {
        _observedSaving = false;
        if (m.Error is not null)
        {
            _observedChanged = true;   // written again once the store is back
            StoreDown(m.Error);        // a held table is published now, unreserved: serving beats numbering
        }
        else if (m.Revision == _revision)
            // refused: the store holds a newer revision (another director's), which this one serves once it checks the store
            _reserved = Math.Max(_reserved, m.Accepted ? m.Reserved : _pathsEpoch);
        if (_held) Republish();
        else if (m.Error is null) KeepReservedAhead();
    }
}
