namespace Mesh.Director.Store;

/// <summary>
/// The director's state in more than one store (the core gateways' replicated store and Redis): the
/// highest revision any of them holds is the truth, and one that holds less (a Redis restarted empty, a store
/// that was unreachable) is written the newer state when it is read. It fails only when every store fails;
/// a store that fails alone is reported once per outage.
/// </summary>
public sealed class CompositeDirectorStore(IReadOnlyList<(string Name, IDirectorStore Store)> stores, Action<string> report) : IDirectorStore
{
    private readonly HashSet<string> _down = [];
    private readonly Lock _gate = new();

    public async Task<DirectorState?> LoadAsync(CancellationToken ct)
    {
        var read = await EachAsync(s => s.LoadAsync(ct));
        // a revision no director could have written (forged in Redis) is passed over, and repaired like a lagging one
        var newest = read.Select(r => r.Value).Where(v => v is not null && DirectorState.IsPlausible(v.Revision)).MaxBy(v => v!.Revision);
        if (newest is null) return read.Select(r => r.Value).FirstOrDefault(v => v is not null);   // the director says what is wrong with it
        foreach (var (store, value) in read.Where(r => r.Value is not { } v || !DirectorState.IsPlausible(v.Revision) || v.Revision < newest.Revision))
        {
            if (value is { } bad && !DirectorState.IsPlausible(bad.Revision))
                report($"{store.Name} holds an unusable revision {bad.Revision}; writing v{newest.Revision} over it");
            await Try(store, s => s.SaveAsync(newest, ct));   // repair one that lags
        }
        return newest;
    }

    public async Task<ObservedState?> LoadObservedAsync(CancellationToken ct) =>
        (await EachAsync(s => s.LoadObservedAsync(ct))).Select(r => r.Value).Where(v => v is not null && DirectorState.IsPlausible(v.Revision)).MaxBy(v => (v!.Revision, v.SavedAt));

    public async Task<bool> SaveAsync(DirectorState state, CancellationToken ct) =>
        (await EachAsync(s => s.SaveAsync(state, ct))).All(r => r.Value);

    public async Task<bool> SaveObservedAsync(ObservedState state, CancellationToken ct) =>
        (await EachAsync(s => s.SaveObservedAsync(state, ct))).All(r => r.Value);

    /// <summary>The answers of the stores that answered; throws only when none did.</summary>
    private async Task<List<((string Name, IDirectorStore Store) Store, T Value)>> EachAsync<T>(Func<IDirectorStore, Task<T>> call)
    {
        var answers = new List<((string, IDirectorStore), T)>();
        Exception? last = null;
        foreach (var store in stores)
        {
            try
            {
                answers.Add((store, await call(store.Store)));
                Up(store.Name);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                last = e;
                Down(store.Name, e.GetBaseException().Message);
            }
        }
        return answers.Count > 0 ? answers : throw new IOException($"no store answers ({last?.GetBaseException().Message})", last);
    }

    private async Task Try((string Name, IDirectorStore Store) store, Func<IDirectorStore, Task<bool>> call)
    {
        try { if (await call(store.Store)) report($"director: {store.Name} held an older revision (restarted empty, or was unreachable); wrote the newest to it"); }
        catch (Exception e) when (e is not OperationCanceledException) { Down(store.Name, e.GetBaseException().Message); }
    }

    private void Down(string name, string why)
    {
        lock (_gate) if (!_down.Add(name)) return;
        report($"director: {name} is unreachable ({why}); the other store serves, and {name} is written again when it returns");
    }

    private void Up(string name)
    {
        lock (_gate) if (!_down.Remove(name)) return;
        report($"director: {name} is reachable again");
    }
}
