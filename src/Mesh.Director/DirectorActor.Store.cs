using Akka.Actor;
using Akka.Event;
using Mesh.Director.Store;

namespace Mesh.Director;

/// <summary>The director's store: saved on every new revision, checked every few seconds, and written again after an outage.</summary>
public sealed partial class DirectorActor
{
    private sealed record Saved(DirectorState State, bool Accepted, string? Error);
    private sealed record CheckStore
    {
        public static readonly CheckStore Instance = new();
    }
    private sealed record StoreChecked(DirectorState? Stored, string? Error);
    /// <summary>
    /// How often the director checks that the store holds its state: while the store is unreachable it
    /// serves from memory; when the store is back (perhaps empty: a Redis without persistence that
    /// restarted) it writes its state again; a newer revision there (another director) is served.
    /// </summary>
    public static readonly TimeSpan StoreCheck = TimeSpan.FromSeconds(5);

    private bool _storeDown;

    private void StoreReceives()
    {
        Receive<Saved>(OnSaved);
        Receive<CheckStore>(_ =>
        {
            CheckStoreAsync(_store, _stopping.Token).PipeTo(Self);
            SaveObservedIfChanged();
        });
        Receive<ObservedSaved>(OnObservedSaved);
        Receive<StoreChecked>(OnStoreChecked);
    }

    private static async Task<StoreChecked> CheckStoreAsync(IDirectorStore store, CancellationToken ct)
    {
        try { return new StoreChecked(await store.LoadAsync(ct), null); }
        catch (Exception e) { return new StoreChecked(null, e.GetBaseException().Message); }
    }

    private void OnStoreChecked(StoreChecked m)
    {
        if (m.Error is not null) { StoreDown(m.Error); return; }
        StoreUp();
        if (_current is not { } current) { if (m.Stored is { } first) Serve(first); return; }
        var stored = m.Stored;
        if (stored is not null && StoredStateProblem(stored) is { } problem)
        {
            StoreProblem($"the store holds an unusable state ({problem}); writing route map v{current.Revision} over it");
            stored = null;
        }
        if (stored is null || stored.Revision < current.Revision)
        {
            if (m.Stored == stored)
                _log.Info("director: the store does not hold route map v{0} (it was unreachable, or restarted empty); writing it", current.Revision);
            SaveAsync(_store, current, _stopping.Token).PipeTo(Self);
        }
        else if (_pending is { } ours && stored.Revision == ours.State.Revision) { }   // this director's own write, not yet confirmed: published once it is
        else if (stored.Revision > current.Revision && stored.ConfigHash != current.ConfigHash) ServeNewer(stored);
        else _storedRevision = Math.Max(_storedRevision, stored.Revision);
    }

    private void OnSaved(Saved m)
    {
        var pending = _pending?.State == m.State ? _pending : null;
        if (pending is not null) _pending = null;
        if (m.Error is not null)
        {
            StoreDown(m.Error);
            if (pending is not null) PublishStored(pending);   // the operator's change is served; the store gets it when it is back
            return;
        }
        StoreUp();
        if (m.Accepted)
        {
            _storedRevision = Math.Max(_storedRevision, m.State.Revision);
            if (pending is not null) PublishStored(pending);
            return;
        }
        pending?.ReplyTo?.Tell(Status());
        CheckStoreAsync(_store, _stopping.Token).PipeTo(Self);   // refused: the store holds a newer revision; serve that
    }

    private void PublishStored(PendingRevision p)
    {
        _current = p.State;
        if (_revision != p.State.Revision || _map?.ContentHash != p.Map.ContentHash) Publish(p.Map, p.State.Revision, p.State.Source);
        p.ReplyTo?.Tell(Status());
    }

    private void ServeNewer(DirectorState stored)
    {
        if (StoredStateProblem(stored) is null)
            _log.Warning("director: the store holds revision v{0}, newer than v{1} (another director wrote it); serving it", stored.Revision, _revision);
        Serve(stored);
    }

    /// <summary>Logged once per outage, not once per check.</summary>
    private void StoreDown(string error)
    {
        if (!_storeDown)
            _log.Warning("director: the store is unreachable ({0}); serving from memory, checking again every {1:0}s", error, StoreCheck.TotalSeconds);
        _storeDown = true;
    }

    private void StoreUp()
    {
        if (_storeDown) _log.Info("director: the store is reachable again");
        _storeDown = false;
    }

    private static async Task<Saved> SaveAsync(IDirectorStore store, DirectorState state, CancellationToken ct)
    {
        try { return new Saved(state, await store.SaveAsync(state, ct), null); }
        catch (Exception e) { return new Saved(state, false, e.GetBaseException().Message); }
    }
}
