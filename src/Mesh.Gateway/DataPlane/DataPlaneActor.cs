using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Health;
using Mesh.Gateway.Link;
using Mesh.Gateway.Listener;
using Mesh.Transport.Links;

namespace Mesh.Gateway.DataPlane;

/// <summary>
/// Runs what the route table asks of this gateway: a ListenerActor per entry, a LinkActor per peer it dials,
/// a HealthActor per service it owns and checks, and who is admitted on its links. Each table is compared with
/// what runs: only the differences start, change or stop. Tells its parent (the gateway) what the reports
/// need: links up or down, services' health, links and services it stopped.
/// </summary>
public sealed class DataPlaneActor : ReceiveActor, IWithTimers
{
    /// <param name="flows">null: control plane only (no certificate given); tables are only announced</param>
    /// <param name="runsAsEdge">started with --edge (its director channel runs over its links)</param>
    public static Props Props(GatewaySettings settings, FlowContext? flows, bool runsAsEdge) =>
        Akka.Actor.Props.Create(typeof(DataPlaneActor), settings, flows, runsAsEdge);

    private sealed record SweepLinks
    {
        public static readonly SweepLinks Instance = new();
    }

    /// <summary>
    /// Idle connections kept to an edge that accepts links (at rest; a burst grows it: PoolDemand). Both edges
    /// dial each other, and many edges on one LAN link pairwise: a full pool_size each would keep n² idle TLS
    /// connections for links most of which carry nothing.
    /// </summary>
    private const int ShortcutPoolSize = 2;

    private readonly GatewaySettings _settings;
    private readonly FlowContext? _flows;
    private readonly bool _runsAsEdge;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, (IActorRef Actor, ListenEntry Entry)> _listeners = [];
    private readonly Dictionary<string, (IActorRef Actor, LinkTargetChanged Target)> _links = [];
    private readonly Dictionary<string, (IActorRef Actor, OwnedService Service)> _probes = [];
    private int _listenerCount, _probeCount;
    private string? _checkedLinks;

    public ITimerScheduler Timers { get; set; } = null!;

    public DataPlaneActor(GatewaySettings settings, FlowContext? flows, bool runsAsEdge)
    {
        (_settings, _flows, _runsAsEdge) = (settings, flows, runsAsEdge);
        Receive<RouteTable>(table =>
        {
            if (_flows is { } f) Run(table, f);
            Context.System.EventStream.Publish(new RouteTableApplied(_settings.Name, table));
        });
        Receive<SweepLinks>(_ => _flows?.Links.Sweep(Liveness.DeadAfter));
        Receive<LinkStateChanged>(m =>
        {
            if (!_links.TryGetValue(m.Peer, out var link) || !link.Actor.Equals(Sender)) return;   // a link since stopped
            _flows!.Links.DialedLinkState(m.Peer, m.Up);   // flows detour around a link known down (Detour)
            Context.Parent.Tell(m);
        });
        Receive<ServiceHealthChanged>(m =>
        {
            if (!_probes.TryGetValue(m.Health.Service, out var probe) || !probe.Actor.Equals(Sender)) return;   // a probe since replaced
            _flows!.Health.Probed(m.Health.Service, m.Health.State == HealthState.Down ? m.Health.Reason ?? "down" : null);
            Context.Parent.Tell(m);
        });
    }

    protected override SupervisorStrategy SupervisorStrategy() => ChildFailure.ByChildName();

    protected override void PreStart()
    {
        if (_flows is not null) Timers.StartPeriodicTimer("sweep", SweepLinks.Instance, Liveness.PingEvery);
    }

    private void Run(RouteTable table, FlowContext flows)
    {
        flows.Routes.Update(table);
        ApplyTrust(table, flows);
        flows.Health.ReportedDown(table.DownServices);   // first: a new entry of a service down starts not listening
        RunEntries(table, flows);
        ProbeOwnedServices(table, flows);
        RunLinks(table, flows);
    }

    private void RunEntries(RouteTable table, FlowContext flows)
    {
        var wanted = table.Entries.ToDictionary(e => $"{e.Listen} {e.Service}");
        foreach (var (key, listener) in _listeners.Where(l => !wanted.ContainsKey(l.Key)).ToList())
        {
            listener.Actor.Tell(StopListening.Instance);   // it drains its flows, then stops
            _listeners.Remove(key);
        }
        foreach (var (key, entry) in wanted)
        {
            if (!_listeners.TryGetValue(key, out var listener))
                _listeners[key] = (Context.ActorOf(ListenerActor.Props(entry, flows), $"{ChildFailure.ListenerPrefix}{++_listenerCount}"), entry);
            else if (!listener.Entry.SameAs(entry))
            {   // an allow list or a limit changed: the listener keeps its socket and its flows
                listener.Actor.Tell(entry);
                _listeners[key] = (listener.Actor, entry);
            }
        }
    }

    /// <summary>A HealthActor per service this gateway owns and checks; a changed target or check starts a fresh one.</summary>
    private void ProbeOwnedServices(RouteTable table, FlowContext flows)
    {
        var wanted = table.Owned.Where(o => o.Check.Kind != "none").ToDictionary(o => o.Name);
        foreach (var (name, probe) in _probes.Where(p => !wanted.TryGetValue(p.Key, out var w) || w != p.Value.Service).ToList())
        {
            Context.Stop(probe.Actor);
            _probes.Remove(name);
            flows.Health.Forget(name);
            Context.Parent.Tell(new ServiceForgotten(name));
        }
        foreach (var (name, service) in wanted.Where(w => !_probes.ContainsKey(w.Key)))
            _probes[name] = (Context.ActorOf(HealthActor.Props(service), $"{ChildFailure.ProbePrefix}{++_probeCount}"), service);
    }

    private void RunLinks(RouteTable table, FlowContext flows)
    {
        var sessions = table.UsesMux ? MuxKeeper.SessionsPerPeer : 0;
        var peers = table.Gateways.Where(table.Dials).ToDictionary(g => g.Name, g => g.IsCore
            ? new LinkTargetChanged(g.Links, table.Flows.PoolSize, MuxSessions: sessions)
            : new LinkTargetChanged(g.Links, Math.Min(table.Flows.PoolSize, ShortcutPoolSize), Shortcut: true, MuxSessions: sessions));
        foreach (var (peer, link) in _links.Where(l => !peers.ContainsKey(l.Key)).ToList())
        {
            Context.Stop(link.Actor);
            _links.Remove(peer);
            Context.Parent.Tell(new LinkForgotten(peer));
        }
        foreach (var (peer, target) in peers)
        {
            if (!_links.TryGetValue(peer, out var link))
                _links[peer] = (Context.ActorOf(LinkActor.Props(peer, target, flows), $"{ChildFailure.LinkPrefix}{peer}"), target);
            else if (!link.Target.Addresses.SequenceEqual(target.Addresses) || link.Target.PoolSize != target.PoolSize || link.Target.Shortcut != target.Shortcut
                     || link.Target.MuxSessions != target.MuxSessions)
            {
                link.Actor.Tell(target);
                _links[peer] = (link.Actor, target);
            }
        }
    }

    /// <summary>
    /// Who is admitted follows the table: a gateway removed from the config, or whose certificate is revoked,
    /// loses every link (idle, in flows, its control channel) at once.
    /// </summary>
    private void ApplyTrust(RouteTable table, FlowContext flows)
    {
        CheckOwnLinkAddresses(table);
        flows.Trust.Update(table.Gateways.Select(g => (g.Name, g.IsCore)), table.Revoked);
        if (table.Revoked.Contains(flows.Identity.Identity.Fingerprint))
            _log.Error("gateway {0}: this gateway's own certificate ({1}) is revoked in the mesh config: other gateways refuse it; issue a new one",
                _settings.Name, flows.Identity.Identity.Fingerprint);
        foreach (var peer in flows.Links.Cut(peer => flows.Trust.AdmitLink(peer).IsAdmitted))
            _log.Warning("gateway {0}: cut every link with {1}: {2}", _settings.Name, peer,
                table.Gateways.Any(g => g.Name == peer) ? "its certificate is revoked" : "it is no longer a gateway of the mesh config");
    }

    /// <summary>Says once (per change of them) which of this gateway's link addresses in the config it cannot be serving.</summary>
    private void CheckOwnLinkAddresses(RouteTable table)
    {
        var dp = _settings.DataPlane!;
        if (dp.Listen.Count == 0 || table.Gateways.FirstOrDefault(g => g.Name == _settings.Name) is not { } self) return;
        var key = $"{self.IsCore} {string.Join(",", self.Links)}";
        if (key == _checkedLinks) return;
        _checkedLinks = key;
        if (self.IsCore && _runsAsEdge)
            _log.Error("gateway {0}: the mesh config declares this gateway core (links without role = \"edge\"), but it runs as an edge (--edge): "
                       + "paths would relay through it and it refuses; add role = \"edge\" to [gateways.{0}]", _settings.Name);
        if (self.Links.Count == 0)
            _log.Error("gateway {0}: the mesh config declares no links for this gateway, but it listens on {1} (--listen): other gateways will never dial it; "
                       + "add links = [\"HOST:PORT\"] to [gateways.{0}] (and role = \"edge\" for an edge gateway, started with --edge)", _settings.Name, string.Join(", ", dp.Listen));
        foreach (var address in LinkAddressCheck.Unserved(self.Links, dp.Listen, dp.Advertise))
            _log.Error("gateway {0}: the mesh config says other gateways dial it at {1}, but it listens on {2} (--listen){3}: that address cannot reach it",
                _settings.Name, address, string.Join(", ", dp.Listen), dp.Advertise is null ? "" : $" and is known as {dp.Advertise} (--advertise)");
    }
}
