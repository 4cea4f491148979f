using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;

namespace Mesh.Gateway.Health;

/// <summary>Sent to the gateway when a service it owns changes state (never on an unchanged probe).</summary>
public sealed record ServiceHealthChanged(ServiceHealth Health);

/// <summary>
/// Probes one service this gateway owns with the check of its config, every interval (never two
/// probes at once), and tells the gateway when the service goes down or comes back.
/// </summary>
public sealed class HealthActor : ReceiveActor, IWithTimers
{
    public static Props Props(OwnedService service) => Akka.Actor.Props.Create(() => new HealthActor(service));

    private sealed record Probe
    {
        public static readonly Probe Instance = new();
    }
    private sealed record Probed(string? Failure);

    private readonly OwnedService _service;
    private readonly HealthTracker _tracker;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private bool _probing;

    public ITimerScheduler Timers { get; set; } = null!;

    public HealthActor(OwnedService service)
    {
        _service = service;
        _tracker = new HealthTracker(service.Check.Rise, service.Check.Fall);
        Receive<Probe>(_ =>
        {
            if (_probing) return;
            _probing = true;
            HealthProbe.RunAsync(_service.Check, _service.Target, _stop.Token).PipeTo(Self, success: f => new Probed(f),
                failure: e => new Probed(e.GetBaseException().Message));
        });
        Receive<Probed>(m =>
        {
            _probing = false;
            if (!_tracker.Observe(m.Failure)) return;
            var health = new ServiceHealth(_service.Name, _tracker.State, _tracker.Reason, DateTimeOffset.UtcNow);
            if (health.State == HealthState.Down)
                _log.Warning("service {0} at {1} is down: {2}", _service.Name, _service.Target, health.Reason);
            else
                _log.Info("service {0} at {1} is up ({2} check)", _service.Name, _service.Target, _service.Check.Kind);
            Context.Parent.Tell(new ServiceHealthChanged(health));
        });
    }

    protected override void PreStart()
    {
        Self.Tell(Probe.Instance);
        Timers.StartPeriodicTimer("probe", Probe.Instance, _service.Check.Interval);
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
