using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Health;
using Mesh.Gateway.Link;
using Mesh.Transport.Links;

namespace Mesh.Gateway.Control;

/// <summary>
/// What this gateway tells the director: which of its links work and the health of the services it owns
/// (ADRs 0006 and 0007), each sent again until acknowledged; and the watchdog on the director's answers that
/// starts a new control plane when they stop although the links work. The gateway actor forwards it the
/// director's answers and the data plane's news.
/// </summary>
public sealed class ReportActor : ReceiveActor, IWithTimers
{
    /// <param name="flows">null: control plane only (no links to report)</param>
    public static Props Props(GatewaySettings settings, IDirectorChannel director, Flows.FlowContext? flows) =>
        Akka.Actor.Props.Create(typeof(ReportActor), settings, director, flows);

    private sealed record ReportLinks
    {
        public static readonly ReportLinks Instance = new();
    }
    private sealed record Watch
    {
        public static readonly Watch Instance = new();
    }

    private readonly GatewaySettings _settings;
    private readonly IDirectorChannel _director;
    private readonly Flows.FlowContext? _flows;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LinkReporter _reporter;
    private readonly HealthReporter _health;
    private DateTimeOffset _lastAnswer;

    public ITimerScheduler Timers { get; set; } = null!;

    public ReportActor(GatewaySettings settings, IDirectorChannel director, Flows.FlowContext? flows)
    {
        (_settings, _director, _flows) = (settings, director, flows);
        _reporter = new LinkReporter(settings.Name);
        _health = new HealthReporter(settings.Name);

        Receive<DirectorAnswered>(_ => _lastAnswer = Now);
        Receive<DirectorReachable>(_ =>
        {
            _lastAnswer = Now;
            SendLinkReport(force: true);
            SendHealthReport(force: true);
        });
        Receive<ReportLinks>(_ =>
        {
            SendLinkReport(force: false);
            SendHealthReport(force: false);
        });
        Receive<Watch>(_ => Watchdog());
        Receive<LinkStateChanged>(m => _reporter.Changed(m.Peer, m.Up));
        Receive<LinkForgotten>(m => _reporter.Forget(m.Peer));
        Receive<LinkReportReceived>(m =>
        {
            _reporter.Acknowledged(m.Sequence);
            _lastAnswer = Now;
        });
        Receive<ServiceHealthChanged>(m =>
        {
            _health.Changed(m.Health);
            SendHealthReport(force: false);
        });
        Receive<ServiceForgotten>(m => _health.Forget(m.Service));
        Receive<HealthReportReceived>(m => _health.Acknowledged(m.Sequence));
    }

    protected override void PreStart()
    {
        _lastAnswer = Now;
        Timers.StartPeriodicTimer("watch", Watch.Instance, TimeSpan.FromMilliseconds(500));
        if (_flows is not null) Timers.StartPeriodicTimer("report-links", ReportLinks.Instance, LinkReporter.CheckEvery);
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void SendHealthReport(bool force)
    {
        if (_health.Due(Now, force) is { } report) _director.Send(report);
    }

    /// <summary>Tells the director which links work (it routes around the others), when something changed.</summary>
    private void SendLinkReport(bool force)
    {
        if (_flows is null) return;
        foreach (var pool in _flows.Links.Pools) _reporter.PeerDialed(pool.Peer, pool.PeerDialedAlive(Liveness.DeadAfter));
        if (_reporter.Due(peer => _flows.Links.Pool(peer).RttMs, Now, force) is { } report) _director.Send(report);
    }

    private void Watchdog()
    {
        if (_settings.RestartControlPlaneAfter is not { } limit || !_reporter.AnyUp || ControlPlaneStuck(limit) is not { } why) return;
        _log.Warning("gateway {0}: {1} although links to core gateways work; restarting the control plane", _settings.Name, why);
        _lastAnswer = Now;
        _director.RestartControlPlane(why);
    }

    /// <summary>
    /// Why the control plane seems stuck, or null: no answer at all for <paramref name="limit"/>, or a report
    /// (links, health) unacknowledged for half of it although it was resent every 2 s. The latter is how an
    /// edge whose control channel reaches a core gateway cut off from the director moves to another one.
    /// </summary>
    private string? ControlPlaneStuck(TimeSpan limit)
    {
        if (Now - _lastAnswer > limit) return $"no answer from the director for {limit.TotalSeconds:0}s";
        var unacknowledged = new[] { _reporter.UnacknowledgedSince, _health.UnacknowledgedSince }.Min();
        if (unacknowledged is { } since && Now - Max(since, _lastAnswer) > limit / 2)
            return $"reports to the director unacknowledged for {(limit / 2).TotalSeconds:0}s";
        return null;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
