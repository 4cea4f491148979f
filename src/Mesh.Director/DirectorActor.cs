using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Mesh.Config;
using Mesh.Contracts;
using Mesh.Contracts.Health;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;
using Mesh.Director.Routing;
using Mesh.Director.Store;

namespace Mesh.Director;

/// <param name="ConfigPath">The TOML file this director serves.</param>
/// <param name="MaxLongPoll">Longest time a route-table request is held; below ClusterClient's 30 s tunnel timeout.</param>
/// <param name="GatewayLostAfter">
/// A gateway not heard from for this long is lost. Every gateway asks for its table at least every 20 s
/// (long poll) and reports its links every 15 s, so two silent rounds mean it is gone.
/// </param>
public sealed record DirectorSettings(string ConfigPath, TimeSpan MaxLongPoll, TimeSpan GatewayLostAfter)
{
    public static DirectorSettings For(string configPath) => new(configPath, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(45));
}

/// <summary>
/// The cluster singleton that owns the route map. It loads the config and its stored revision, answers
/// route-table requests (holding them as long polls while nothing changes) and announces new versions.
/// </summary>
public sealed partial class DirectorActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    public static Props Props(DirectorSettings settings, IDirectorStore store, IActorRef? mediator) =>
        Akka.Actor.Props.Create(() => new DirectorActor(settings, store, mediator));

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

    private DirectorStatus Status() => new(((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString(),
        _revision, _settings.ConfigPath, _configErrors);

    private MeshView View()
    {
        if (_map is not { } map) return new MeshView(_revision, [], [], [], [], _events.ToArray());
        var entries = map.Entries.Select(e => new EntryView(e.Gateway, e.Listen.ToString(), e.Service, map.Services[e.Service].Gateway)).ToArray();
        var services = map.Services.Values.OrderBy(sv => sv.Name, StringComparer.Ordinal).Select(sv =>
        {
            var check = sv.Check.Kind.ToString().ToLowerInvariant();
            var (health, reason, since) = HealthOf(sv.Name, sv.Gateway, check);
            return new ServiceView(sv.Name, sv.Gateway, sv.Target.ToString(), check,
                entries.Where(e => e.Service == sv.Name).Select(e => $"{e.Gateway} {e.Listen}").ToArray(), health, reason, since);
        }).ToArray();
        return new MeshView(_revision, services, entries,
            map.Gateways.Values.OrderBy(g => g.Name, StringComparer.Ordinal).Select(GatewayViewOf).ToArray(),
            _links.Select(l => new LinkView(l.A, l.B, l.Cost)).ToArray(), _events.ToArray());
    }

    private void Serving()
    {
        Receive<GetRouteTable>(Answer);
        Receive<LinkReport>(OnLinkReport);
        Receive<HealthReport>(OnHealthReport);
        Receive<GetDirectorStatus>(_ => Sender.Tell(Status()));
        Receive<GetMeshView>(_ => Sender.Tell(View()));
        Receive<SweepWaiters>(_ => Sweep());
        Receive<Saved>(OnSaved);
        Receive<CheckStore>(_ =>
        {
            CheckStoreAsync(_store, _stopping.Token).PipeTo(Self);
            SaveObservedIfChanged();
        });
        Receive<ObservedSaved>(OnObservedSaved);
        Receive<StoreChecked>(OnStoreChecked);
        Receive<Loaded>(m =>
        {   // the config file changed, the store held a newer revision, or someone asked for a reload
            Apply(m);
            if (!Sender.IsNobody() && !Sender.Equals(Self)) Sender.Tell(Status());
        });
        Receive<ReloadConfig>(_ => LoadAsync(_settings.ConfigPath, _store, _stopping.Token).PipeTo(Self, Sender));
        Receive<WatchConfig>(_ => ReadConfigAsync(_settings.ConfigPath).PipeTo(Self));
        Receive<ConfigRead>(m =>
        {
            if (m.Text == _configText && m.Error is null) return;
            if (m.Error is not null && _configText == "") return;   // still unreadable: said so already
            _log.Info("director: {0} changed; reloading", _settings.ConfigPath);
            LoadAsync(_settings.ConfigPath, _store, _stopping.Token).PipeTo(Self);
        });
    }

    protected override void PreStart()
    {
        MeshMeter.DirectorStarts.Add(1);
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

    private void Publish(RouteMap map, long revision)
    {
        _map = map;
        _revision = revision;
        _pathsEpoch = 0;
        _configErrors = [];
        foreach (var gone in _reports.Keys.Where(g => !map.Gateways.ContainsKey(g)).ToList()) _reports.Remove(gone);
        ForgetGatewaysNotIn(map);
        _links = WorkingLinks.From(RouteTables.Members(map), _reports);
        _down = DownServices();
        Event("info", "reload-applied", _settings.ConfigPath, $"route map v{revision} from {_settings.ConfigPath}: " +
            $"{map.Gateways.Count} gateways, {map.Services.Count} services, {map.Entries.Length} entries");
        Republish();
    }

    /// <summary>A gateway tested its links: if that changes the links paths may use, every table gets new next hops.</summary>
    private void OnLinkReport(LinkReport report)
    {
        Heard(report.Gateway);
        if (_map is null || !_map.Gateways.ContainsKey(report.Gateway))
        {   // nothing to route yet, or not ours to route: acknowledged, so the gateway stops resending
            Sender.Tell(new LinkReportReceived(report.Sequence, _version));
            return;
        }
        if (_reports.TryGetValue(report.Gateway, out var applied) && report.Sequence <= applied.Sequence)
        {   // a resend that arrived after a newer report (seen after a ClusterClient switched receptionists)
            Sender.Tell(new LinkReportReceived(report.Sequence, _version));
            return;
        }
        _reports[report.Gateway] = report;
        ObservedChanged();
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
        if (!Sender.Path.Name.StartsWith('$')) Heard(request.Gateway);   // not the API asking on its behalf
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
            table = RouteTables.For(_map!, _version, gateway, _links) with { DownServices = _down };
            if (!table.Declared) _log.Warning("director: gateway '{0}' asked for routes but {1} does not declare it", gateway, _settings.ConfigPath);
            _tables[gateway] = table;
        }
        return table;
    }

    private void Sweep()
    {
        CheckGateways();
        var now = Context.System.Scheduler.Now;
        _waiters.RemoveAll(w =>
        {
            if (w.Deadline > now) return false;
            w.ReplyTo.Tell(new RouteTableUnchanged(_version));
            return true;
        });
    }
}
