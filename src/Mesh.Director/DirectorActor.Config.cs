using Akka.Actor;
using Akka.Event;
using Mesh.Config;
using Mesh.Contracts.Routing;
using Mesh.Director.Observed;
using Mesh.Director.Store;

namespace Mesh.Director;

/// <summary>
/// Which config the director serves (ADR 0009). The stored revision is the truth: a director that starts
/// or takes over serves it, never an older local file. Its own file is applied when its content changes
/// while this node is director (or on POST /v1/reload); a file that differs from the served revision is
/// reported once, not applied. PUT /v1/config applies a pushed text. Every applied config is the next
/// revision, stored before it is published; a refused one keeps the served map and says why.
/// </summary>
public sealed partial class DirectorActor
{
    private sealed record WatchConfig
    {
        public static readonly WatchConfig Instance = new();
    }
    /// <summary>The config file's text, or why it could not be read.</summary>
    private sealed record ConfigRead(string? Text, string? Error);
    private sealed record Started(ConfigRead File, DirectorState? Stored, string? StoreError, ObservedState? Observed, StartCounter? Counter = null);
    /// <summary>POST /v1/reload: the file as it is now, applied if valid; answered with the status.</summary>
    private sealed record ReloadRead(ConfigRead File);

    /// <summary>
    /// How often the director looks at its config file. It acts on a change of content only (a touch,
    /// or an editor's save of the same text, does nothing), and reading the whole small file every
    /// second is more reliable than file-system events, which editors that save by renaming defeat.
    /// </summary>
    public static readonly TimeSpan ConfigWatch = TimeSpan.FromSeconds(1);

    /// <summary>The state this director serves, which the store must hold.</summary>
    private DirectorState? _current;
    /// <summary>A new revision being stored; it is published when the store has it (or cannot be reached).</summary>
    private PendingRevision? _pending;

    /// <param name="ReplyTo">who asked for it (a reload or a push): answered with the status once it is published</param>
    private sealed record PendingRevision(DirectorState State, RouteMap Map, IActorRef? ReplyTo);

    private ObservedState? _observedToRestore;
    /// <summary>The highest revision any store is known to hold (a new revision is numbered above it).</summary>
    private long _storedRevision;
    /// <summary>The config file's text when last read: a change from it is applied.</summary>
    private string? _fileText;
    private bool _fileDiffers;
    /// <summary>Why the last config given to the director (file, reload or push) was refused; empty once one is applied.</summary>
    private IReadOnlyList<string> _configErrors = [];

    private void ConfigReceives()
    {
        Receive<WatchConfig>(_ => ReadConfigAsync(_settings.ConfigPath).PipeTo(Self));
        Receive<ConfigRead>(OnFileRead);
        Receive<ReloadConfig>(_ => ReadConfigAsync(_settings.ConfigPath).ContinueWith(t => new ReloadRead(t.Result)).PipeTo(Self, Sender));
        Receive<ReloadRead>(m =>
        {
            _fileText = m.File.Text ?? _fileText;
            if (m.File.Error is { } error) Refuse(_settings.ConfigPath, [$"{_settings.ConfigPath}: cannot read the file: {error}"]);
            else if (TryApply(m.File.Text!, _settings.ConfigPath, FileSource, Sender)) return;   // answered once stored and published
            Sender.Tell(Status());
        });
        Receive<PushConfig>(m =>
        {
            if (!TryApply(m.Text, "pushed config", Mesh.Contracts.Logging.LogText.Safe(m.Source, 120), Sender)) Sender.Tell(Status());
        });
    }

    private string FileSource => $"{_settings.ConfigPath} on {Node}";

    private static async Task<ConfigRead> ReadConfigAsync(string path)
    {
        try { return new ConfigRead(await File.ReadAllTextAsync(path), null); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new ConfigRead(null, e.Message); }
    }

    private static async Task<Started> StartAsync(string path, IDirectorStore store, TimeProvider clock, CancellationToken ct)
    {
        var file = await ReadConfigAsync(path);
        DirectorState? stored;
        try { stored = await store.LoadAsync(ct); }
        catch (Exception e) { return new Started(file, null, e.GetBaseException().Message, null); }
        ObservedState? observed;
        try { observed = await store.LoadObservedAsync(ct); }
        catch (Exception e)
        {   // the history is a nicety; the config is what matters (and no reservation is written over a state not read)
            return new Started(file, stored, null, null, stored is null ? null : new StartCounter(stored.Revision, ReserveAhead + 1, 0, e.GetBaseException().Message));
        }
        return new Started(file, stored, null, observed, await ReserveAtStartAsync(store, stored, observed, clock.GetUtcNow(), ct));
    }

    /// <summary>The first state: the stored revision if there is a sane one, else this node's file.</summary>
    private void Start(Started m)
    {
        if (m.StoreError is not null) StoreDown(m.StoreError);
        _log.Info("director: starting on {0}; the store holds {1}", Node, m.Stored is { } held ? $"revision v{held.Revision} (from {held.Source})" : m.StoreError is null ? "no revision yet" : "nothing readable");
        _fileText = m.File.Text;
        _startCounter = m.Counter;
        if (m.Stored is { } stored && Serve(stored))
        {
            _fileDiffers = m.File.Text is { } text && RouteMapLoader.Load(text, _settings.ConfigPath).Map?.ContentHash != stored.ConfigHash;
            if (_fileDiffers)
                _log.Warning("director: {0} differs from the served revision v{1} (from {2}); it is applied when it changes while this node is director, " +
                             "or with `mesh config push`", _settings.ConfigPath, stored.Revision, stored.Source is { Length: > 0 } s ? s : "the store");
        }
        else if (m.File.Text is { } text) TryApply(text, _settings.ConfigPath, FileSource);
        else Refuse(_settings.ConfigPath, [$"{_settings.ConfigPath}: cannot read the file: {m.File.Error}"]);
        if (m.Observed is { } observed)
        {
            if (!DirectorState.IsPlausible(observed.Revision))
            {
                StoreProblem($"the store's observed state has revision {observed.Revision}, out of range 1-{DirectorState.MaxRevision}; not restoring it");
                return;
            }
            if (_map is not null) Restore(observed);
            else _observedToRestore = observed;   // once the first revision is published
        }
    }

    /// <summary>The file changed (content, not a touch): applied while this node is director.</summary>
    private void OnFileRead(ConfigRead m)
    {
        if (m.Text is null || m.Text == _fileText) return;   // unreadable for now (said at start or reload), or unchanged
        _fileText = m.Text;
        _log.Info("director: {0} changed; applying it", _settings.ConfigPath);
        TryApply(m.Text, _settings.ConfigPath, FileSource);
    }

    /// <summary>
    /// Validates <paramref name="text"/>; if valid and new, it becomes the next revision (stored, then published).
    /// Returns true when a new revision is on its way, and then <paramref name="replyTo"/> hears the status once it is published.
    /// </summary>
    private bool TryApply(string text, string sourceName, string source, IActorRef? replyTo = null)
    {
        var loaded = RouteMapLoader.Load(text, sourceName);
        if (!loaded.IsValid)
        {
            Refuse(sourceName, loaded.Errors.Select(e => e.ToString()).ToArray());
            return false;
        }
        var map = loaded.Map!;
        _configErrors = [];
        if (_map is not null && map.ContentHash == _map.ContentHash)
        {
            _fileDiffers = _fileText is not null && RouteMapLoader.Load(_fileText, sourceName).Map?.ContentHash != map.ContentHash;
            return false;   // what is served already
        }
        var revision = Math.Max(Math.Max(_storedRevision, _revision), _pending?.State.Revision ?? 0) + 1;
        var state = new DirectorState(revision, map.ContentHash, map.SourceText, Now) { Source = source };
        _fileDiffers = _fileText is not null && RouteMapLoader.Load(_fileText, _settings.ConfigPath).Map?.ContentHash != map.ContentHash;
        _pending = new PendingRevision(state, map, replyTo);   // published once stored: a director that takes over then serves it too
        SaveAsync(_store, state, _stopping.Token).PipeTo(Self);
        return true;
    }

    /// <summary>Serves a stored state (at start, or one a newer director wrote); false if it is not sane.</summary>
    private bool Serve(DirectorState stored)
    {
        if (StoredStateProblem(stored) is { } problem)
        {
            StoreProblem($"the store holds an unusable state ({problem}); not serving it");
            return false;
        }
        var loaded = RouteMapLoader.Load(stored.ConfigText, $"stored revision {stored.Revision}");
        if (!loaded.IsValid)
        {
            StoreProblem($"stored revision {stored.Revision} is not a valid config ({loaded.Errors[0]}); not serving it");
            return false;
        }
        _storedRevision = Math.Max(_storedRevision, stored.Revision);
        _current = stored;
        if (_map is not null && _revision == stored.Revision && _map.ContentHash == loaded.Map!.ContentHash) return true;
        Publish(loaded.Map!, stored.Revision, stored.Source is { Length: > 0 } s ? s : $"the store (revision {stored.Revision})");
        return true;
    }

    /// <summary>A revision a real mesh could have (table versions keep 23 bits of it) and a hash of the stored text.</summary>
    private static string? StoredStateProblem(DirectorState s) =>
        !DirectorState.IsPlausible(s.Revision) ? $"revision {s.Revision} is out of range 1-{DirectorState.MaxRevision}"
        : s.ConfigText is null ? "no config text"
        : null;

    private void Refuse(string source, IReadOnlyList<string> errors)
    {
        _configErrors = errors;
        foreach (var e in errors) _log.Error("director: {0}", e);
        var first = errors.Count == 1 ? errors[0] : $"{errors[0]}, and {errors.Count - 1} more";
        Event(EventLevel.Warning, EventKind.ReloadFailed, source, _map is null
            ? $"{source} is invalid; no route map is served until a valid one is given ({first})"
            : $"{source} is invalid; still serving route map v{_revision} ({first})");
    }

    private string? _lastStoreProblem;

    private void StoreProblem(string problem)
    {
        if (problem == _lastStoreProblem) return;
        _lastStoreProblem = problem;
        _log.Error("director: {0}", problem);
    }
}
