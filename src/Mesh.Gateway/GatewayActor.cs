using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Health;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Control;
using Mesh.Gateway.DataPlane;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Health;
using Mesh.Gateway.Link;
using Mesh.Gateway.Metrics;
using Mesh.Gateway.Tunnel;
using Mesh.Transport.Links;

namespace Mesh.Gateway;

/// <summary>
/// This gateway: the parent of its parts, each with one job, and the address the director answers. It owns
/// the flow context and the link port (core gateways); the rest is its children's:
/// <list type="bullet">
/// <item><c>routes</c> (RouteTableClient): fetches the route table from the director by version;</item>
/// <item><c>data-plane</c> (DataPlaneActor): runs the entries, links and health probes the table asks for;</item>
/// <item><c>reports</c> (ReportActor): reports links and health to the director, and watches its answers;</item>
/// <item><c>peer-flows</c> (PeerFlowsActor): runs the flows peers open on our links;</item>
/// <item><c>control</c> (ControlLinkActor, edges): the control channel to a core gateway over the links.</item>
/// </list>
/// It routes what arrives to the child whose job it is, and nothing else.
/// </summary>
public sealed class GatewayActor : ReceiveActor
{
    /// <param name="director">a core gateway's channel (its control plane's singleton proxy); null for an edge, whose
    /// channel is a control connection to a core gateway over its links (ControlLinkActor, a child)</param>
    public static Props Props(GatewaySettings settings, IDirectorChannel? director) =>
        Akka.Actor.Props.Create(() => new GatewayActor(settings, director));

    private readonly GatewaySettings _settings;
    private readonly IDirectorChannel _director;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly FlowContext? _flows;
    /// <summary>Set in PreStart, before any link can carry a flow; read by the link readers' callback.</summary>
    private volatile IActorRef? _peerFlows;
    private IActorRef _routes = ActorRefs.Nobody, _reports = ActorRefs.Nobody;

    public GatewayActor(GatewaySettings settings, IDirectorChannel? director)
    {
        _settings = settings;
        _director = director ?? new LinkDirectorChannel();
        if (settings.DataPlane is { } dp)
            _flows = new FlowContext(settings.Name, dp.Identity,
                new LinkRegistry((link, open) => _peerFlows?.Tell(new PeerFlowsActor.Arrived(link, open))), dp.Routes)
            {
                Trust = dp.Trust, ClientSlots = new ClientSlots(dp.MaxClientFlows, dp.DescriptorsLow),
            };

        // the director's answers: to the part that asked (and the watchdog hears that it answered)
        Receive<RouteTable>(Answer);
        Receive<RouteTableUnchanged>(Answer);
        Receive<RouteTableDelta>(Answer);
        Receive<RouteTableUnavailable>(Answer);
        Receive<RouteMapChanged>(m => _routes.Forward(m));
        Receive<GetCurrentRouteTable>(m => _routes.Forward(m));
        Receive<DirectorReachable>(m =>
        {
            _routes.Forward(m);
            _reports.Forward(m);
        });
        Receive<LinkReportReceived>(m =>
        {
            _routes.Forward(m);   // it carries the director's table version
            _reports.Forward(m);
        });
        Receive<HealthReportReceived>(m => _reports.Forward(m));

        // the data plane's news, for the reports
        Receive<LinkStateChanged>(m =>
        {
            _reports.Forward(m);
            if (!m.Up) Context.Child(ChildFailure.Control).Tell(new ControlLinkActor.LinkDown(m.Peer));   // an edge's control channel
        });
        Receive<ServiceHealthChanged>(m => _reports.Forward(m));
        Receive<LinkForgotten>(m => _reports.Forward(m));
        Receive<ServiceForgotten>(m => _reports.Forward(m));
    }

    private void Answer(object answer)
    {
        _reports.Tell(DirectorAnswered.Instance);
        _routes.Forward(answer);
    }

    protected override SupervisorStrategy SupervisorStrategy() => ChildFailure.ByChildName();

    protected override void PreStart()
    {
        var dataPlane = Context.ActorOf(DataPlaneActor.Props(_settings, _flows, _director is LinkDirectorChannel), ChildFailure.DataPlane);
        _reports = Context.ActorOf(ReportActor.Props(_settings, _director, _flows), ChildFailure.Reports);
        _routes = Context.ActorOf(RouteTableClient.Props(_settings, _director, dataPlane), ChildFailure.Routes);
        if (_flows is null)
        {
            _log.Warning("gateway {0}: no certificate given: control plane only, no flows", _settings.Name);
            return;
        }
        _peerFlows = Context.ActorOf(PeerFlowsActor.Props(_flows), ChildFailure.PeerFlows);
        GatewayGauges.Attach(_flows.Links, () => _flows.Health.ProbedHere);
        if (_director is LinkDirectorChannel overLinks)
            overLinks.Attach(Context.ActorOf(ControlLinkActor.Props(_settings.DataPlane!.Join, _flows, Self), ChildFailure.Control));
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
}
