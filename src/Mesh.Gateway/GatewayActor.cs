using Akka.Actor;
using Akka.Event;
using Mesh.Contracts;
using Mesh.Contracts.Health;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Control;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Health;
using Mesh.Gateway.Link;
using Mesh.Gateway.Metrics;
using Mesh.Gateway.Listener;
using Mesh.Gateway.Tunnel;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway;

/// <summary>
/// This gateway: keeps its route table current by fetching it from the director by version, and logs a
/// line each time it changes. It runs the data plane the table asks for: a ListenerActor per entry, a
/// LinkActor per peer it can dial, a HealthActor per service it owns, the link port (core gateways), and a
/// TunnelActor per flow a peer opens. It reports its links and its services' health to the director.
/// </summary>
public sealed partial class GatewayActor : ReceiveActor, IWithTimers
{
    /// <param name="director">a core gateway's channel (its control plane's singleton proxy); null for an edge, whose
    /// channel is a control connection to a core gateway over its links (ControlLinkActor, a child)</param>
    public static Props Props(GatewaySettings settings, IDirectorChannel? director) =>
        Akka.Actor.Props.Create(() => new GatewayActor(settings, director));

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }
    private sealed record SweepLinks
    {
        public static readonly SweepLinks Instance = new();
    }
    private sealed record ReportLinks
    {
        public static readonly ReportLinks Instance = new();
    }
    private sealed record PeerFlowArrived(LinkConnection Link, Open Open) : INoSerializationVerificationNeeded;

    private static readonly TimeSpan UnavailableBackoff = TimeSpan.FromSeconds(2);
    /// <summary>
    /// Idle connections kept to an edge that accepts links (at rest; a burst grows it: PoolDemand). Both edges
    /// dial each other, and many edges on one LAN link pairwise: a full pool_size each would keep n² idle TLS
    /// connections for links most of which carry nothing.
    /// </summary>
    private const int ShortcutPoolSize = 2;

    private readonly GatewaySettings _settings;
    private readonly IDirectorChannel _director;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private RouteTable? _table;
    private DateTimeOffset? _pendingSince;
    private DateTimeOffset _nextFetch;
    private DateTimeOffset _lastAnswer;
    private string? _lastProblem;
    private readonly FlowContext? _flows;
    private readonly Dictionary<string, (IActorRef Actor, ListenEntry Entry)> _listeners = [];
    private readonly Dictionary<string, (IActorRef Actor, LinkTargetChanged Target)> _links = [];
    private int _listenerCount, _probeCount;
    private readonly LinkReporter _reporter;
    private readonly Dictionary<string, (IActorRef Actor, OwnedService Service)> _probes = [];
    private readonly HealthReporter _health;

    public ITimerScheduler Timers { get; set; } = null!;

    public GatewayActor(GatewaySettings settings, IDirectorChannel? director)
    {
        _settings = settings;
        _director = director ?? new LinkDirectorChannel();
        _reporter = new LinkReporter(settings.Name);
        _health = new HealthReporter(settings.Name);
        if (settings.DataPlane is { } dp)
        {
            var self = Self;
            _flows = new FlowContext(settings.Name, dp.Identity,
                new LinkRegistry((link, open) => self.Tell(new PeerFlowArrived(link, open))), new RouteView())
            {
                Trust = dp.Trust, ClientSlots = new ClientSlots(dp.MaxClientFlows, dp.DescriptorsLow),
            };
        }

        Receive<Tick>(_ => OnTick());
        Receive<SweepLinks>(_ => _flows?.Links.Sweep(Liveness.DeadAfter));
        Receive<PeerFlowArrived>(m => Context.ActorOf(TunnelActor.ForPeer(m.Link, m.Open, _flows!)));
        Receive<RouteTable>(Apply);
        Receive<RouteTableUnchanged>(_ =>
        {
            _lastProblem = null;
            Answered(_settings.RefreshInterval);
        });
        Receive<RouteTableUnavailable>(m =>
        {
            Problem($"the director serves no routes: {m.Reason}");
            Answered(UnavailableBackoff);
        });
        Receive<RouteMapChanged>(m =>
        {
            if (m.Version != _table?.Version && _pendingSince is null) Fetch();
        });
        Receive<DirectorReachable>(_ =>
        {
            _lastAnswer = Now;
            Fetch();
            SendLinkReport(force: true);
            SendHealthReport(force: true);
        });
        Receive<LinkStateChanged>(m =>
        {
            _reporter.Changed(m.Peer, m.Up);
            _flows?.Links.DialedLinkState(m.Peer, m.Up);   // flows detour around a link known down (Detour)
            if (!m.Up) Context.Child(ChildFailure.Control).Tell(new ControlLinkActor.LinkDown(m.Peer));   // an edge's control channel
        });
        Receive<LinkReportReceived>(m =>
        {
            _reporter.Acknowledged(m.Sequence);
            _lastAnswer = Now;
            if (m.TableVersion != _table?.Version) Fetch();   // our long poll may have died with a link
        });
        Receive<ReportLinks>(_ =>
        {
            SendLinkReport(force: false);
            SendHealthReport(force: false);
        });
        Receive<ServiceHealthChanged>(m =>
        {
            if (!_probes.TryGetValue(m.Health.Service, out var probe) || !probe.Actor.Equals(Sender)) return;   // a probe since replaced
            _health.Changed(m.Health);
            _flows?.Health.Probed(m.Health.Service, m.Health.State == HealthState.Down ? m.Health.Reason ?? "down" : null);
            SendHealthReport(force: false);
        });
        Receive<HealthReportReceived>(m => _health.Acknowledged(m.Sequence));
        Receive<GetCurrentRouteTable>(_ => Sender.Tell(new CurrentRouteTable(_table)));
    }

    protected override SupervisorStrategy SupervisorStrategy() => ChildFailure.ByChildName();

    protected override void PreStart()
    {
        _lastAnswer = Now;
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromMilliseconds(500));
        Fetch();
        if (_flows is null)
        {
            _log.Warning("gateway {0}: no certificate given: control plane only, no flows", _settings.Name);
            return;
        }
        GatewayGauges.Attach(_flows.Links, () => _flows.Health.ProbedHere);
        if (_director is LinkDirectorChannel overLinks)
            overLinks.Attach(Context.ActorOf(ControlLinkActor.Props(_settings.DataPlane!.Join, _flows, Self), ChildFailure.Control));
        Timers.StartPeriodicTimer("sweep", SweepLinks.Instance, Liveness.PingEvery);
        Timers.StartPeriodicTimer("report-links", ReportLinks.Instance, LinkReporter.CheckEvery);
        foreach (var server in _settings.DataPlane!.LinkServers) StartLinkServer(server);
    }

    /// <summary>A link port (bound at start): pooled connections join the registry, edges' control channels go to the director.</summary>
    private void StartLinkServer(LinkServer server)
    {
        var log = _log;
        var name = _settings.Name;
        var ask = _settings.DataPlane!.DirectorAsk;
        var notCore = new Mesh.Contracts.Logging.LogLimiter(TimeSpan.FromMinutes(1), maxLinesPerWindow: 1);
        var hooks = new LinkServerHooks(
            Control: link =>
            {
                if (ask is null)
                {   // an edge that accepts links: a gateway whose --join names it takes it for a core gateway
                    if (notCore.ShouldLog(link.Peer, Environment.TickCount64, out _))
                        log.Warning("gateway {0}: {1} opened a control channel, but this edge gateway does not reach the director for others; "
                                    + "give {1} the core gateways' link addresses in --join", name, link.Peer);
                    _ = link.DisposeAsync().AsTask();
                    return;
                }
                _ = ControlSession.RunAsync(link, ask, line => log.Info("gateway {0}: {1}", name, line));
            },
            Warn: line => log.Warning("gateway {0}: {1}", name, line),
            Failed: kind => MeshMeter.HandshakeFailures.Add(1, new KeyValuePair<string, object?>("reason", kind)));
        server.Start(_flows!.Identity, _flows.Links, _flows.Trust, hooks);
        _log.Info("gateway {0}: link port {1} open", _settings.Name, server.LocalEndPoint);
    }

    protected override void PostStop()
    {
        if (_flows is null) return;
        GatewayGauges.Detach(_flows.Links);
        foreach (var server in _settings.DataPlane!.LinkServers) server.Dispose();
    }

    /// <summary>Says once (per change of them) which of this gateway's link addresses in the config it cannot be serving.</summary>
    private void CheckOwnLinkAddresses(RouteTable table)
    {
        var dp = _settings.DataPlane!;
        if (dp.Listen.Count == 0 || table.Gateways.FirstOrDefault(g => g.Name == _settings.Name) is not { } self) return;
        var key = $"{self.IsCore} {string.Join(",", self.Links)}";
        if (key == _checkedLinks) return;
        _checkedLinks = key;
        if (self.IsCore && _director is LinkDirectorChannel)
            _log.Error("gateway {0}: the mesh config declares this gateway core (links without role = \"edge\"), but it runs as an edge (--edge): "
                       + "paths would relay through it and it refuses; add role = \"edge\" to [gateways.{0}]", _settings.Name);
        if (self.Links.Count == 0)
            _log.Error("gateway {0}: the mesh config declares no links for this gateway, but it listens on {1} (--listen): other gateways will never dial it; "
                       + "add links = [\"HOST:PORT\"] to [gateways.{0}] (and role = \"edge\" for an edge gateway, started with --edge)", _settings.Name, string.Join(", ", dp.Listen));
        foreach (var address in LinkAddressCheck.Unserved(self.Links, dp.Listen, dp.Advertise))
            _log.Error("gateway {0}: the mesh config says other gateways dial it at {1}, but it listens on {2} (--listen){3}: that address cannot reach it",
                _settings.Name, address, string.Join(", ", dp.Listen), dp.Advertise is null ? "" : $" and is known as {dp.Advertise} (--advertise)");
    }

    private string? _checkedLinks;

    /// <summary>
    /// Who is admitted follows the table: a gateway removed from the config, or whose certificate is revoked,
    /// loses every link (idle, in flows, its control channel) at once.
    /// </summary>
    private void ApplyTrust(RouteTable table)
    {
        if (_flows is null) return;
        CheckOwnLinkAddresses(table);
        _flows.Trust.Update(table.Gateways.Select(g => (g.Name, g.IsCore)), table.Revoked);
        if (table.Revoked.Contains(_flows.Identity.Identity.Fingerprint))
            _log.Error("gateway {0}: this gateway's own certificate ({1}) is revoked in the mesh config: other gateways refuse it; issue a new one",
                _settings.Name, _flows.Identity.Identity.Fingerprint);
        foreach (var peer in _flows.Links.Cut(peer => _flows.Trust.AdmitLink(peer).IsAdmitted))
            _log.Warning("gateway {0}: cut every link with {1}: {2}", _settings.Name, peer,
                table.Gateways.Any(g => g.Name == peer) ? "its certificate is revoked" : "it is no longer a gateway of the mesh config");
    }

    /// <summary>Starts and stops listeners and links so that they match <paramref name="table"/>.</summary>
    private void RunDataPlane(RouteTable table)
    {
        if (_flows is null) return;
        _flows.Routes.Update(table);
        ApplyTrust(table);

        _flows.Health.ReportedDown(table.DownServices);   // first: a new entry of a service down starts not listening
        var wanted = table.Entries.ToDictionary(e => $"{e.Listen} {e.Service}");
        foreach (var (key, listener) in _listeners.Where(l => !wanted.ContainsKey(l.Key)).ToList())
        {
            listener.Actor.Tell(StopListening.Instance);   // it drains its flows, then stops
            _listeners.Remove(key);
        }
        foreach (var (key, entry) in wanted)
        {
            if (!_listeners.TryGetValue(key, out var listener))
                _listeners[key] = (Context.ActorOf(ListenerActor.Props(entry, _flows), $"{ChildFailure.ListenerPrefix}{++_listenerCount}"), entry);
            else if (!listener.Entry.SameAs(entry))
            {   // an allow list or a limit changed: the listener keeps its socket and its flows
                listener.Actor.Tell(entry);
                _listeners[key] = (listener.Actor, entry);
            }
        }
        ProbeOwnedServices(table);

        var peers = table.Gateways.Where(table.Dials).ToDictionary(g => g.Name, g => g.IsCore
            ? new LinkTargetChanged(g.Links, table.Flows.PoolSize)
            : new LinkTargetChanged(g.Links, Math.Min(table.Flows.PoolSize, ShortcutPoolSize), Shortcut: true));
        foreach (var (peer, link) in _links.Where(l => !peers.ContainsKey(l.Key)).ToList())
        {
            Context.Stop(link.Actor);
            _links.Remove(peer);
            _reporter.Forget(peer);
        }
        foreach (var (peer, target) in peers)
        {
            if (!_links.TryGetValue(peer, out var link))
                _links[peer] = (Context.ActorOf(LinkActor.Props(peer, target, _flows), $"{ChildFailure.LinkPrefix}{peer}"), target);
            else if (!link.Target.Addresses.SequenceEqual(target.Addresses) || link.Target.PoolSize != target.PoolSize || link.Target.Shortcut != target.Shortcut)
            {
                link.Actor.Tell(target);
                _links[peer] = (link.Actor, target);
            }
        }
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void OnTick()
    {
        if (_settings.RestartControlPlaneAfter is { } limit && _reporter.AnyUp && ControlPlaneStuck(limit) is { } why)
        {
            _log.Warning("gateway {0}: {1} although links to core gateways work; restarting the control plane", _settings.Name, why);
            _lastAnswer = Now;
            _director.RestartControlPlane(why);
        }
        if (_pendingSince is { } since && Now - since > _settings.RequestTimeout)
        {
            Problem("no answer from the director yet; asking again");
            _pendingSince = null;
        }
        if (_pendingSince is null && Now >= _nextFetch) Fetch();
    }

    private void Fetch()
    {
        _director.Send(new GetRouteTable(_settings.Name, _table?.Version ?? 0, _settings.LongPollWait));
        _pendingSince = Now;
    }

    private void Apply(RouteTable table)
    {
        if (table.Version != _table?.Version || _table is null)
        {   // any other version is applied: the director is the authority. Versions only grow (ADR 0013), so one
            // that orders before the held one is said, not refused (refusing it would ignore a director until it caught up)
            if (_table is { } held && table.Version < held.Version)
                _log.Warning("gateway {0}: the director's route table {1} orders before {2} held here; applying it", _settings.Name,
                    TableVersion.Text(table.Version), TableVersion.Text(held.Version));
            _table = table;
            _lastProblem = null;
            _log.Info("gateway {0}: {1}", _settings.Name, table.Summary);
            if (!table.Declared)
                _log.Warning("gateway {0}: the mesh config does not declare this gateway; add [gateways.{0}]", _settings.Name);
            RunDataPlane(table);
            Context.System.EventStream.Publish(new RouteTableApplied(_settings.Name, table));
        }
        Answered(_settings.RefreshInterval);
    }

    private void Answered(TimeSpan pause)
    {
        _lastAnswer = Now;
        _pendingSince = null;
        _nextFetch = Now + pause;
        if (pause <= TimeSpan.Zero) Fetch();
    }

    /// <summary>Logs a problem once, not on every retry.</summary>
    private void Problem(string text)
    {
        if (text == _lastProblem) return;
        _lastProblem = text;
        _log.Warning("gateway {0}: {1}", _settings.Name, text);
    }
}
