using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Mesh.Config;
using Mesh.Contracts;
using Mesh.Contracts.Routing;
using Mesh.Director.Routing;
using Mesh.Director.Store;

namespace Mesh.Director;

/// <param name="ConfigPath">The TOML file this director serves.</param>
/// <param name="MaxLongPoll">Longest time a route-table request is held; below ClusterClient's 30 s tunnel timeout.</param>
public sealed record DirectorSettings(string ConfigPath, TimeSpan MaxLongPoll)
{
    public static DirectorSettings For(string configPath) => new(configPath, TimeSpan.FromSeconds(20));
}

/// <summary>
/// The cluster singleton that owns the route map. It loads the config and its stored revision, answers
/// route-table requests (holding them as long polls while nothing changes) and announces new versions.
/// </summary>
public sealed class DirectorActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    public static Props Props(DirectorSettings settings, IDirectorStore store, IActorRef? mediator) =>
        Akka.Actor.Props.Create(() => new DirectorActor(settings, store, mediator));

    private sealed record Saved(DirectorState State, bool Accepted, string? Error);
    private sealed record CheckStore
    {
        public static readonly CheckStore Instance = new();
    }
    private sealed record StoreChecked(DirectorState? Stored, string? Error);
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

    /// <summary>
    /// How often the director checks that the store holds its state: while the store is unreachable it
    /// serves from memory; when the store is back (perhaps empty: a Redis without persistence that
    /// restarted) it writes its state again.
    /// </summary>
    public static readonly TimeSpan StoreCheck = TimeSpan.FromSeconds(5);
    private sealed record SweepWaiters
    {
        public static readonly SweepWaiters Instance = new();
    }
    private sealed record Waiter(IActorRef ReplyTo, string Gateway, long KnownVersion, DateTimeOffset Deadline);

    private readonly DirectorSettings _settings;
    private readonly IDirectorStore _store;
    private readonly IActorRef? _mediator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Waiter> _waiters = [];
    private readonly Dictionary<string, RouteTable> _tables = [];
    private readonly Dictionary<string, LinkReport> _reports = [];
    /// <summary>Tables of another director differ in version even for the same config and links.</summary>
    private readonly int _incarnation = Random.Shared.Next(1, 1 << 20);
    private RouteMap? _map;
    private long _revision, _version;
    private int _pathsEpoch;
    private IReadOnlyList<LinkEdge> _links = [];
    /// <summary>The state this director serves, which the store must hold.</summary>
    private DirectorState? _current;
    private bool _storeDown;
    /// <summary>The config file's text when it was last loaded (valid or not).</summary>
    private string? _configText;
    private IReadOnlyList<string> _configErrors = [];

    public IStash Stash { get; set; } = null!;

    public DirectorActor(DirectorSettings settings, IDirectorStore store, IActorRef? mediator)
    {
        _settings = settings;
        _store = store;
        _mediator = mediator;
        Loading();
    }

    private void Loading()
    {
        Receive<Loaded>(m =>
        {
            Apply(m);
            Stash.UnstashAll();
            Become(Serving);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Serving()
    {
        Receive<GetRouteTable>(Answer);
        Receive<LinkReport>(OnLinkReport);
        Receive<GetDirectorStatus>(_ => Sender.Tell(new DirectorStatus(
            ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString(),
            _revision, _settings.ConfigPath, _configErrors)));
        Receive<SweepWaiters>(_ => Sweep());
        Receive<Saved>(OnSaved);
        Receive<CheckStore>(_ => CheckStoreAsync(_store, _stopping.Token).PipeTo(Self));
        Receive<StoreChecked>(OnStoreChecked);
        Receive<Loaded>(Apply);   // the config file changed, or the store held a newer revision
        Receive<WatchConfig>(_ => ReadConfigAsync(_settings.ConfigPath).PipeTo(Self));
        Receive<ConfigRead>(m =>
        {
            if (m.Text == _configText && m.Error is null) return;
            if (m.Error is not null && _configText == "") return;   // still unreadable: said so already
            _log.Info("director: {0} changed; reloading", _settings.ConfigPath);
            LoadAsync(_settings.ConfigPath, _store, _stopping.Token).PipeTo(Self);
        });
    }

    private static async Task<ConfigRead> ReadConfigAsync(string path)
    {
        try { return new ConfigRead(await File.ReadAllTextAsync(path)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return new ConfigRead("", e.Message); }
    }

    private static async Task<StoreChecked> CheckStoreAsync(IDirectorStore store, CancellationToken ct)
    {
        try { return new StoreChecked(await store.LoadAsync(ct), null); }
        catch (Exception e) { return new StoreChecked(null, e.GetBaseException().Message); }
    }

    private void OnStoreChecked(StoreChecked m)
    {
        if (m.Error is not null) { StoreDown(m.Error); return; }
        if (_current is not { } current) return;
        if (m.Stored is null || m.Stored.Revision < current.Revision)
        {
            _log.Info("director: the store does not hold route map v{0} (it was unreachable, or restarted empty); writing it", current.Revision);
            SaveAsync(_store, current, _stopping.Token).PipeTo(Self);
        }
        else if (m.Stored.Revision > current.Revision) Reload(current.Revision);
        else StoreUp();
    }

    private void OnSaved(Saved m)
    {
        if (m.Error is not null) { StoreDown(m.Error); return; }
        StoreUp();
        if (!m.Accepted) Reload(m.State.Revision);
    }

    private void Reload(long revision)
    {
        _log.Warning("director: the store holds a newer revision than v{0} (another director wrote it); loading it", revision);
        LoadAsync(_settings.ConfigPath, _store, _stopping.Token).PipeTo(Self);
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

    protected override void PreStart()
    {
        var ct = _stopping.Token;
        LoadAsync(_settings.ConfigPath, _store, ct).PipeTo(Self);
        Timers.StartPeriodicTimer("sweep", SweepWaiters.Instance, TimeSpan.FromSeconds(1));
        Timers.StartPeriodicTimer("check-store", CheckStore.Instance, StoreCheck);
        Timers.StartPeriodicTimer("watch-config", WatchConfig.Instance, ConfigWatch);
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Loaded(LoadResult Config, string Text, DirectorState? Stored, string? StoreError);

    private static async Task<Loaded> LoadAsync(string path, IDirectorStore store, CancellationToken ct)
    {
        var read = await ReadConfigAsync(path);
        var config = read.Error is null ? RouteMapLoader.Load(read.Text, path) : RouteMapLoader.LoadFile(path);   // the latter says why
        try { return new Loaded(config, read.Text, await store.LoadAsync(ct), null); }
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
            if (_map is null) _log.Error("director: {0} is invalid; no route map is served until it is fixed", _settings.ConfigPath);
            else _log.Error("director: {0} is invalid; still serving route map v{1} until it is fixed", _settings.ConfigPath, _revision);
            return;
        }
        var map = m.Config.Map!;
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

    private static async Task<Saved> SaveAsync(IDirectorStore store, DirectorState state, CancellationToken ct)
    {
        try { return new Saved(state, await store.SaveAsync(state, ct), null); }
        catch (Exception e) { return new Saved(state, false, e.GetBaseException().Message); }
    }

    private void Publish(RouteMap map, long revision)
    {
        _map = map;
        _revision = revision;
        _pathsEpoch = 0;
        _configErrors = [];
        foreach (var gone in _reports.Keys.Where(g => !map.Gateways.ContainsKey(g)).ToList()) _reports.Remove(gone);
        _links = WorkingLinks.From(RouteTables.Members(map), _reports);
        _log.Info("director: route map v{0} from {1}: {2} gateways, {3} services, {4} entries",
            revision, _settings.ConfigPath, map.Gateways.Count, map.Services.Count, map.Entries.Length);
        Republish();
    }

    /// <summary>A gateway tested its links: if that changes the links paths may use, every table gets new next hops.</summary>
    private void OnLinkReport(LinkReport report)
    {
        if (_map is null || !_map.Gateways.ContainsKey(report.Gateway))
        {   // nothing to route yet, or not ours to route: acknowledged, so the gateway stops resending
            Sender.Tell(new LinkReportReceived(report.Sequence, _version));
            return;
        }
        _reports[report.Gateway] = report;
        var links = WorkingLinks.From(RouteTables.Members(_map), _reports);
        var changes = WorkingLinks.Describe(_links, links);
        if (changes.Length == 0)
        {
            Sender.Tell(new LinkReportReceived(report.Sequence, _version));
            return;
        }
        _links = links;
        _pathsEpoch++;
        _log.Info("director: links changed ({0}, reported by {1}): paths {2}", changes, report.Gateway,
            TableVersion.Text(TableVersion.Of(_revision, _incarnation, _pathsEpoch)));
        Republish();
        Sender.Tell(new LinkReportReceived(report.Sequence, _version));
    }

    /// <summary>A new version: waiting gateways get their table now, core gateways hear of it through pub-sub.</summary>
    private void Republish()
    {
        _version = TableVersion.Of(_revision, _incarnation, _pathsEpoch);
        _tables.Clear();
        foreach (var w in _waiters) w.ReplyTo.Tell(TableFor(w.Gateway));
        _waiters.Clear();
        _mediator?.Tell(new Publish(Topics.Routes, new RouteMapChanged(_version)));
    }

    private void Answer(GetRouteTable request)
    {
        if (_map is null) { Sender.Tell(new RouteTableUnavailable($"the director's config {_settings.ConfigPath} is invalid")); return; }
        if (request.KnownVersion != _version || request.Wait <= TimeSpan.Zero) { Sender.Tell(TableOrUnchanged(request)); return; }
        var wait = request.Wait < _settings.MaxLongPoll ? request.Wait : _settings.MaxLongPoll;
        _waiters.Add(new Waiter(Sender, request.Gateway, request.KnownVersion, Context.System.Scheduler.Now + wait));
    }

    private IRoutingMessage TableOrUnchanged(GetRouteTable request) =>
        request.KnownVersion == _version ? new RouteTableUnchanged(_version) : TableFor(request.Gateway);

    private RouteTable TableFor(string gateway)
    {
        if (!_tables.TryGetValue(gateway, out var table))
        {
            table = RouteTables.For(_map!, _version, gateway, _links);
            if (!table.Declared) _log.Warning("director: gateway '{0}' asked for routes but {1} does not declare it", gateway, _settings.ConfigPath);
            _tables[gateway] = table;
        }
        return table;
    }

    private void Sweep()
    {
        var now = Context.System.Scheduler.Now;
        _waiters.RemoveAll(w =>
        {
            if (w.Deadline > now) return false;
            w.ReplyTo.Tell(new RouteTableUnchanged(_version));
            return true;
        });
    }
}
