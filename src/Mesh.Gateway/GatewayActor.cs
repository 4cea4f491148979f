using Akka.Actor;
using Akka.Event;
using Mesh.Contracts;
using Mesh.Contracts.Health;
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
    public static Props Props(GatewaySettings settings, IDirectorChannel director) =>
        Akka.Actor.Props.Create(() => new GatewayActor(settings, director));

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }
    private sealed record SweepLinks
    {
        public static readonly SweepLinks Instance = new();
    }
    private sealed record StartLinkServer
    {
        public static readonly StartLinkServer Instance = new();
    }
    private sealed record ReportLinks
    {
        public static readonly ReportLinks Instance = new();
    }
    private sealed record PeerFlowArrived(LinkConnection Link, Open Open) : INoSerializationVerificationNeeded;

    private static readonly TimeSpan UnavailableBackoff = TimeSpan.FromSeconds(2);

    private readonly GatewaySettings _settings;
    private readonly IDirectorChannel _director;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private RouteTable? _table;
    private DateTimeOffset? _pendingSince;
    private DateTimeOffset _nextFetch;
    private DateTimeOffset _lastAnswer;
    private string? _lastProblem;
    private readonly FlowContext? _flows;
    private LinkServer? _linkServer;
    private readonly Dictionary<string, IActorRef> _listeners = [];
    private readonly Dictionary<string, (IActorRef Actor, LinkTargetChanged Target)> _links = [];
    private int _listenerCount;
    private readonly LinkReporter _reporter;
    private readonly Dictionary<string, (IActorRef Actor, OwnedService Service)> _probes = [];
    private readonly HealthReporter _health;

    public ITimerScheduler Timers { get; set; } = null!;

    public GatewayActor(GatewaySettings settings, IDirectorChannel director)
    {
        _settings = settings;
        _director = director;
        _reporter = new LinkReporter(settings.Name);
        _health = new HealthReporter(settings.Name);
        if (settings.DataPlane is { } dp)
        {
            var self = Self;
            _flows = new FlowContext(settings.Name, dp.Identity,
                new LinkRegistry((link, open) => self.Tell(new PeerFlowArrived(link, open))), new RouteView());
        }

        Receive<Tick>(_ => OnTick());
        Receive<SweepLinks>(_ => _flows?.Links.Sweep(Liveness.DeadAfter));
        Receive<StartLinkServer>(_ => TryStartLinkServer());
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
        Timers.StartPeriodicTimer("sweep", SweepLinks.Instance, Liveness.PingEvery);
        Timers.StartPeriodicTimer("report-links", ReportLinks.Instance, LinkReporter.CheckEvery);
        if (_settings.DataPlane!.LinkListen is not null) TryStartLinkServer();
    }

    /// <summary>The link port of a core gateway; if its address is taken, say so and keep trying.</summary>
    private void TryStartLinkServer()
    {
        var address = _settings.DataPlane!.LinkListen!;
        try
        {
            _linkServer = new LinkServer(address);
            _linkServer.Start(_flows!.Identity, _flows.Links, warning => _log.Warning("gateway {0}: {1}", _settings.Name, warning));
            _log.Info("gateway {0}: link port {1} open", _settings.Name, address);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            _log.Error("gateway {0}: cannot open link port {1}: {2}; retrying in 5s", _settings.Name, address, e.SocketErrorCode);
            Timers.StartSingleTimer("link-server", StartLinkServer.Instance, TimeSpan.FromSeconds(5));
        }
    }

    protected override void PostStop()
    {
        if (_flows is not null) GatewayGauges.Detach(_flows.Links);
        _linkServer?.Dispose();
    }

    /// <summary>Starts and stops listeners and links so that they match <paramref name="table"/>.</summary>
    private void RunDataPlane(RouteTable table)
    {
        if (_flows is null) return;
        _flows.Routes.Update(table);

        var wanted = table.Entries.ToDictionary(e => $"{e.Listen} {e.Service}");
        foreach (var (key, listener) in _listeners.Where(l => !wanted.ContainsKey(l.Key)).ToList())
        {
            listener.Tell(StopListening.Instance);   // it drains its flows, then stops
            _listeners.Remove(key);
        }
        foreach (var (key, entry) in wanted.Where(w => !_listeners.ContainsKey(w.Key)))
            _listeners[key] = Context.ActorOf(ListenerActor.Props(entry, _flows), $"listener-{++_listenerCount}");
        _flows.Health.ReportedDown(table.DownServices);
        ProbeOwnedServices(table);

        var self = table.Gateways.FirstOrDefault(g => g.Name == _settings.Name);
        var peers = table.Gateways.Where(g => g.IsCore && g.Name != _settings.Name && self is not null)
            .ToDictionary(g => g.Name, g => new LinkTargetChanged(g.Links, table.Flows.PoolSize));
        foreach (var (peer, link) in _links.Where(l => !peers.ContainsKey(l.Key)).ToList())
        {
            Context.Stop(link.Actor);
            _links.Remove(peer);
            _reporter.Forget(peer);
        }
        foreach (var (peer, target) in peers)
        {
            if (!_links.TryGetValue(peer, out var link))
                _links[peer] = (Context.ActorOf(LinkActor.Props(peer, target.Addresses, target.PoolSize, _flows), $"link-{peer}"), target);
            else if (!link.Target.Addresses.SequenceEqual(target.Addresses) || link.Target.PoolSize != target.PoolSize)
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
        {
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
