using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Mesh.Config;
using Mesh.Contracts;
using Mesh.Contracts.Health;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;
using Mesh.Director.Observed;
using Mesh.Director.Routing;
using Mesh.Director.Store;

namespace Mesh.Director;

/// <param name="ConfigPath">The director's own TOML file: applied when it changes while this node is director.</param>
/// <param name="MaxLongPoll">Longest time a route-table request is held (a core gateway carrying an edge's request waits a little longer).</param>
/// <param name="GatewayLostAfter">
/// A gateway not heard from for this long is lost. Every gateway asks for its table at least every 20 s
/// (long poll) and reports its links every 15 s, so two silent rounds mean it is gone.
/// </param>
public sealed record DirectorSettings(string ConfigPath, TimeSpan MaxLongPoll, TimeSpan GatewayLostAfter)
{
    /// <summary>
    /// The director's one clock: when a gateway was heard from and is lost, whether a report's sequence is from a real
    /// clock, when a long poll is answered, the times of events and stored states. A test gives a fake one.
    /// </summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public static DirectorSettings For(string configPath) => new(configPath, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(45));
}

/// <summary>
/// The cluster singleton that owns the route map. The stored revision is the truth (ADR 0009): it serves
/// what the store holds, applies its own config file when that changes while it is director, and a config
/// pushed through the API. It answers route-table requests (holding them as long polls while nothing
/// changes), takes link and health reports from the gateways they are about, and announces new versions.
/// </summary>
public sealed partial class DirectorActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    public static Props Props(DirectorSettings settings, IDirectorStore store, IActorRef? mediator) =>
        Akka.Actor.Props.Create(() => new DirectorActor(settings, store, mediator));

    private sealed record SweepWaiters
    {
        public static readonly SweepWaiters Instance = new();
    }
    private sealed record Waiter(IActorRef ReplyTo, GetRouteTable Request, DateTimeOffset Deadline);

    private readonly DirectorSettings _settings;
    private readonly IDirectorStore _store;
    private readonly IActorRef? _mediator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Waiter> _waiters = [];
    /// <summary>The tables of the current version, and what each gateway was served last (the base of its delta).</summary>
    private readonly TableCache _tables = new();
    private readonly Dictionary<string, LinkReport> _reports = [];
    private RouteMap? _map;
    private long _revision, _version;
    /// <summary>The table counter of <see cref="_revision"/> (DirectorActor.Versions.cs).</summary>
    private long _pathsEpoch;
    /// <summary>The working links, kept report by report.</summary>
    private LinkBook? _linkBook;
    private IReadOnlyList<LinkEdge> Links => _linkBook?.Working() ?? [];

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
        Receive<Started>(m =>
        {
            Start(m);
            if (_map is null && _pending is not null) { Become(StoringFirst); return; }
            Stash.UnstashAll();
            Become(Serving);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>A new mesh's first revision is being stored: requests wait for it (a report on no map would be lost).</summary>
    private void StoringFirst()
    {
        Receive<Saved>(m =>
        {
            OnSaved(m);
            if (_map is null) return;
            if (_observedToRestore is { } observed) Restore(observed);
            _observedToRestore = null;
            Stash.UnstashAll();
            Become(Serving);
        });
        Receive<StoreChecked>(OnStoreChecked);
        ReceiveAny(_ => Stash.Stash());
    }

    private DateTimeOffset Now => _settings.Clock.GetUtcNow();

    private string Node => ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

    private DirectorStatus Status() => new(Node, _revision, _settings.ConfigPath, _configErrors)
    {
        Source = _current?.Source ?? "", AppliedAt = _current?.SavedAt, FileDiffers = _fileDiffers,
    };

    private void Serving()
    {
        Receive<GetRouteTable>(Answer);
        Receive<GetGatewayRoutes>(m => Sender.Tell(new GatewayRoutes(_map?.Gateways.ContainsKey(m.Gateway) == true ? _tables.For(m.Gateway) : null)));
        Receive<LinkReport>(OnLinkReport);
        Receive<HealthReport>(OnHealthReport);
        Receive<GetDirectorStatus>(_ => Sender.Tell(Status()));
        Receive<GetMeshView>(_ => Sender.Tell(View()));
        Receive<SweepWaiters>(_ => Sweep());
        ConfigReceives();
        StoreReceives();
    }

    protected override void PreStart()
    {
        MeshMeter.DirectorStarts.Add(1);
        StartAsync(_settings.ConfigPath, _store, _settings.Clock, _stopping.Token).PipeTo(Self);
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

    private void Publish(RouteMap map, long revision, string source)
    {
        _map = map;
        _revision = revision;
        StartCounting(revision);
        _configErrors = [];
        foreach (var gone in _reports.Keys.Where(g => !map.Gateways.ContainsKey(g)).ToList()) _reports.Remove(gone);
        ForgetGatewaysNotIn(map);
        ResetLinks(map);
        _down = DownServices();
        Event(EventLevel.Info, EventKind.ReloadApplied, source, $"route map v{revision} from {source}: " +
            Mesh.Contracts.Logging.Plural.MapSize(map.Gateways.Count, map.Services.Count, map.Entries.Length));
        Republish();
    }

    /// <summary>A gateway tested its links: if that changes the links paths may use, every table gets new next hops.</summary>
    private void OnLinkReport(LinkReport received)
    {
        if (_map is null) { Sender.Tell(new LinkReportReceived(received.Sequence, _version)); return; }   // nothing to route yet
        if (ReportAdmission.Admit(received, _map, Now, out var refused) is not { } report)
        {
            RefusedReport("link", received.Gateway, refused!);
            return;
        }
        Heard(report.Gateway);
        if (_reports.TryGetValue(report.Gateway, out var applied) && report.Sequence <= applied.Sequence)
        {   // a resend that arrived after a newer report (a gateway that switched the core gateway carrying its reports)
            Sender.Tell(new LinkReportReceived(report.Sequence, _version));
            return;
        }
        _reports[report.Gateway] = report;
        ObservedChanged();
        if (applied is not null && report.SameLinksAs(applied))
        {   // the routine report every 15 s: nothing paths use changed (at 1,000 gateways recomputing cost ~0.5 s each)
            Sender.Tell(new LinkReportReceived(report.Sequence, _version));
            return;
        }
        var changes = _linkBook!.Apply(report);
        if (changes.Count == 0)
        {
            Sender.Tell(new LinkReportReceived(report.Sequence, _version));
            return;
        }
        _tables.LinksChanged(changes);
        _pathsEpoch++;
        _log.Info("director: links changed ({0}, reported by {1}): paths {2}", LinkChange.Describe(changes), report.Gateway,
            TableVersion.Text(TableVersion.Of(_revision, _pathsEpoch)));
        Republish();
        Sender.Tell(new LinkReportReceived(report.Sequence, _version));
    }

    /// <summary>A report that is not about its sender, or not from a real clock: never applied nor acknowledged; logged once a minute per gateway.</summary>
    private void RefusedReport(string kind, string gateway, string why)
    {
        if (_refusedLogs.ShouldLog($"{kind} {gateway}", Environment.TickCount64, out var held))
            _log.Warning("director: refused a {0} report from '{1}': {2}{3}", kind, Mesh.Contracts.Logging.LogText.Safe(gateway, 80), why,
                held > 0 ? $" ({held} more since)" : "");
    }

    private readonly Mesh.Contracts.Logging.LogLimiter _refusedLogs = new(TimeSpan.FromMinutes(1));

    /// <summary>A gateway asks for its own table (a core gateway directly, an edge through the core gateway that carries its channel).</summary>
    private void Answer(GetRouteTable request)
    {
        if (_map is null) { Sender.Tell(new RouteTableUnavailable($"the director has no valid config yet ({_settings.ConfigPath})")); return; }
        if (!_map.Gateways.ContainsKey(request.Gateway))
        {   // names are proven by TLS, but a gateway removed from the config may still ask: no table is built or kept for it
            RefusedReport("route table", request.Gateway, "the config does not declare it");
            Sender.Tell(new RouteTableUnavailable($"the mesh config does not declare gateway '{request.Gateway}'"));
            return;
        }
        Heard(request.Gateway);
        if (request.KnownVersion != _version || request.Wait <= TimeSpan.Zero) { Sender.Tell(TableOrUnchanged(request)); return; }
        var wait = request.Wait < _settings.MaxLongPoll ? request.Wait : _settings.MaxLongPoll;
        _waiters.Add(new Waiter(Sender, request, Now + wait));
    }

    /// <summary>Unchanged, what changed since the version the gateway holds (when it takes deltas), or its whole table.</summary>
    private IRoutingMessage TableOrUnchanged(GetRouteTable request) =>
        request.KnownVersion == _version ? new RouteTableUnchanged(_version) : _tables.Answer(request.Gateway, request.KnownVersion, request.Deltas);

    /// <summary>Links from the reports kept, from scratch (a new config, a restored state): every table is built again.</summary>
    private void ResetLinks(RouteMap map)
    {
        _linkBook = new LinkBook(RouteTables.Members(map), _reports);
        _tables.Reset(map, _linkBook);
    }

    private void Sweep()
    {
        CheckGateways();
        var now = Now;
        _waiters.RemoveAll(w =>
        {
            if (w.Deadline > now) return false;
            w.ReplyTo.Tell(new RouteTableUnchanged(_version));
            return true;
        });
    }
}
