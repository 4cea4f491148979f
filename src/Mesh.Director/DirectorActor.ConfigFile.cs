using Akka.Actor;
using Akka.Event;
using Mesh.Config;
using Mesh.Director.Store;

namespace Mesh.Director;

/// <summary>The director's config file: loaded at start, watched for changes, applied when valid.</summary>
public sealed partial class DirectorActor
{
    private sealed record WatchConfig
    {
        public static readonly WatchConfig Instance = new();
    }
    /// <summary>The config file's text, or why it could not be read.</summary>
    private sealed record ConfigRead(string Text, string? Error = null);

    /// <summary>
    /// How often the director looks at its config file. It acts on a change of content only (a touch,
    /// or an editor's save of the same text, does nothing), and reading the whole small file every
    /// second is more reliable than file-system events, which editors that save by renaming defeat.
    /// </summary>
    public static readonly TimeSpan ConfigWatch = TimeSpan.FromSeconds(1);


    private static async Task<ConfigRead> ReadConfigAsync(string path)
    {
        try { return new ConfigRead(await File.ReadAllTextAsync(path)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new ConfigRead("", e.Message); }
    }

    private sealed record Loaded(LoadResult Config, string Text, DirectorState? Stored, string? StoreError, ObservedState? Observed = null);

    private static async Task<Loaded> LoadAsync(string path, IDirectorStore store, CancellationToken ct)
    {
        var read = await ReadConfigAsync(path);
        var config = read.Error is null ? RouteMapLoader.Load(read.Text, path) : RouteMapLoader.LoadFile(path);   // the latter says why
        try { return new Loaded(config, read.Text, await store.LoadAsync(ct), null, await store.LoadObservedAsync(ct)); }
        catch (Exception e) { return new Loaded(config, read.Text, null, e.GetBaseException().Message); }
    }

    private void Apply(Loaded m)
    {
        if (m.StoreError is not null) StoreDown(m.StoreError);
        _configText = m.Text;
        if (!m.Config.IsValid)
        {
            _configErrors = m.Config.Errors.Select(e => e.ToString()).ToArray();
            foreach (var e in _configErrors) _log.Error("director: {0}", e);
            Event("warning", "reload-failed", _settings.ConfigPath, _map is null
                ? $"{_settings.ConfigPath} is invalid; no route map is served until it is fixed ({FirstErrors()})"
                : $"{_settings.ConfigPath} is invalid; still serving route map v{_revision} until it is fixed ({FirstErrors()})");
            return;
        }
        var map = m.Config.Map!;
        if (_map is null && m.Observed is { } observed) Restore(observed);
        var stored = m.Stored;
        var revision =
            stored is not null && stored.ConfigHash == map.ContentHash ? stored.Revision
            : _map is not null && _map.ContentHash == map.ContentHash ? _revision   // the store could not be read: same map, same revision
            : Math.Max(stored?.Revision ?? 0, _revision) + 1;
        _current = revision == stored?.Revision ? stored : new DirectorState(revision, map.ContentHash, map.SourceText, DateTimeOffset.UtcNow);
        if (revision != stored?.Revision) SaveAsync(_store, _current, _stopping.Token).PipeTo(Self);
        _configErrors = [];
        if (_map is not null && revision == _revision && map.ContentHash == _map.ContentHash) return;   // nothing new to publish
        Publish(map, revision);
    }

    private string FirstErrors() => _configErrors.Count == 1 ? _configErrors[0] : $"{_configErrors[0]}, and {_configErrors.Count - 1} more";
}
