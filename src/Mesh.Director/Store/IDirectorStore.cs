namespace Mesh.Director.Store;

/// <summary>
/// What the director keeps across restarts and failovers. <paramref name="Revision"/> only grows: a write
/// with an older revision than the stored one is refused (two directors can exist briefly in a partition).
/// </summary>
public sealed record DirectorState(long Revision, string ConfigHash, string ConfigText, DateTimeOffset SavedAt) : IStoredState
{
    /// <summary>Where this revision came from: a file on a node, or a push through the API.</summary>
    public string Source { get; init; } = "";

    /// <summary>The highest revision a director writes: route table versions keep 22 bits of it.</summary>
    public const long MaxRevision = (1L << 22) - 1;

    /// <summary>
    /// Whether a revision read from a store is one a director could have written. The director trusts a store
    /// no more than a gateway: a forged revision near long.MaxValue must neither be served nor fence writes.
    /// </summary>
    public static bool IsPlausible(long revision) => revision is >= 1 and <= MaxRevision;
}

public interface IDirectorStore
{
    /// <summary>The saved state, or null when nothing was saved yet.</summary>
    Task<DirectorState?> LoadAsync(CancellationToken ct);

    /// <summary>Saves unless the store already holds a newer revision; returns false when refused.</summary>
    Task<bool> SaveAsync(DirectorState state, CancellationToken ct);

    /// <summary>The observed state last saved, or null.</summary>
    Task<ObservedState?> LoadObservedAsync(CancellationToken ct);

    /// <summary>Saves unless the store holds one observed under a newer revision; returns false when refused.</summary>
    Task<bool> SaveObservedAsync(ObservedState state, CancellationToken ct);
}
