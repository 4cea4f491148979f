using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Mesh.Contracts;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Control;

namespace Mesh.Gateway;

/// <summary>
/// This gateway: keeps its route table current by fetching it from the director by version, and logs a
/// line each time it changes. The data plane (listeners, links) hangs off the table it holds.
/// </summary>
public sealed class GatewayActor : ReceiveActor, IWithTimers
{
    public static Props Props(GatewaySettings settings, IDirectorChannel director, IActorRef? mediator) =>
        Akka.Actor.Props.Create(() => new GatewayActor(settings, director, mediator));

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private static readonly TimeSpan UnavailableBackoff = TimeSpan.FromSeconds(2);

    private readonly GatewaySettings _settings;
    private readonly IDirectorChannel _director;
    private readonly IActorRef? _mediator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private RouteTable? _table;
    private DateTimeOffset? _pendingSince;
    private DateTimeOffset _nextFetch;
    private string? _lastProblem;

    public ITimerScheduler Timers { get; set; } = null!;

    public GatewayActor(GatewaySettings settings, IDirectorChannel director, IActorRef? mediator)
    {
        _settings = settings;
        _director = director;
        _mediator = mediator;

        Receive<Tick>(_ => OnTick());
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
        Receive<SubscribeAck>(_ => { });
        Receive<GetCurrentRouteTable>(_ => Sender.Tell(new CurrentRouteTable(_table)));
    }

    protected override void PreStart()
    {
        _mediator?.Tell(new Subscribe(Topics.Routes, Self));
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromMilliseconds(500));
        Fetch();
    }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    private void OnTick()
    {
        if (_pendingSince is { } since && Now - since > _settings.RequestTimeout)
        {
            Problem("no answer from the director yet; asking again");
            _pendingSince = null;
        }
        if (_pendingSince is null && Now >= _nextFetch) Fetch();
    }

    private void Fetch()
    {
        _director.Send(new GetRouteTable(_settings.Name, _table?.Version ?? 0, _settings.LongPollWait), Self);
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
            Context.System.EventStream.Publish(new RouteTableApplied(_settings.Name, table));
        }
        Answered(_settings.RefreshInterval);
    }

    private void Answered(TimeSpan pause)
    {
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
