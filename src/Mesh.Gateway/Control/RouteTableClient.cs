using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;

namespace Mesh.Gateway.Control;

/// <summary>
/// Keeps this gateway's route table current: asks the director for it by version (a long poll, asked again
/// when unanswered), applies whatever version the director answers with, says each change in one log line,
/// and hands the table to the data plane (which says when it applied it: RouteTableApplied). The
/// director's answers reach it through the gateway actor.
/// </summary>
public sealed class RouteTableClient : ReceiveActor, IWithTimers
{
    /// <param name="dataPlane">where each new table goes</param>
    public static Props Props(GatewaySettings settings, IDirectorChannel director, IActorRef dataPlane) =>
        Akka.Actor.Props.Create(typeof(RouteTableClient), settings, director, dataPlane);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private static readonly TimeSpan UnavailableBackoff = TimeSpan.FromSeconds(2);

    private readonly GatewaySettings _settings;
    private readonly IDirectorChannel _director;
    private readonly IActorRef _dataPlane;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private RouteTable? _table;
    private DateTimeOffset? _pendingSince;
    private DateTimeOffset _nextFetch;
    private string? _lastProblem;

    public ITimerScheduler Timers { get; set; } = null!;

    public RouteTableClient(GatewaySettings settings, IDirectorChannel director, IActorRef dataPlane)
    {
        (_settings, _director, _dataPlane) = (settings, director, dataPlane);
        Receive<Tick>(_ => OnTick());
        Receive<RouteTable>(table => Apply(table, Received.Whole));
        Receive<RouteTableDelta>(OnDelta);
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
        Receive<DirectorReachable>(_ => Fetch());
        Receive<LinkReportReceived>(m =>
        {
            if (m.TableVersion != _table?.Version) Fetch();   // our long poll may have died with a link
        });
        Receive<GetCurrentRouteTable>(_ => Sender.Tell(new CurrentRouteTable(_table)));
    }

    protected override void PreStart()
    {
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
        _director.Send(new GetRouteTable(_settings.Name, _table?.Version ?? 0, _settings.LongPollWait) { Deltas = true });
        _pendingSince = Now;
    }

    /// <summary>
    /// Paths or health changed: the director sent what changed since the version held here. A delta on another
    /// base (a table lost on the way, a director that moved) is not applied: the whole table is asked for (version 0).
    /// </summary>
    private void OnDelta(RouteTableDelta delta)
    {
        if (_table is { } held && delta.ApplyTo(held) is { } next)
        {
            Apply(next, Received.Delta);
            return;
        }
        if (_table is { } newer && delta.Version <= newer.Version)
        {   // a late answer (two requests crossed: a long poll and a fetch after a report's acknowledgement): already past it
            Answered(_settings.RefreshInterval);
            return;
        }
        _log.Debug("gateway {0}: a route-table delta from {1} does not apply to {2} held here; asking for the whole table", _settings.Name,
            TableVersion.Text(delta.BaseVersion), _table is null ? "no table" : TableVersion.Text(_table.Version));
        _director.Send(new GetRouteTable(_settings.Name, 0, TimeSpan.Zero) { Deltas = true });
        _pendingSince = Now;
    }

    private enum Received { Whole, Delta }

    private void Apply(RouteTable table, Received how)
    {
        if (table.Version != _table?.Version || _table is null)
        {   // any other version is applied: the director is the authority. Versions only grow (ADR 0013), so one
            // that orders before the held one is said, not refused (refusing it would ignore a director until it caught up)
            if (_table is { } held && table.Version < held.Version)
                _log.Warning("gateway {0}: the director's route table {1} orders before {2} held here; applying it", _settings.Name,
                    TableVersion.Text(table.Version), TableVersion.Text(held.Version));
            _table = table;
            _lastProblem = null;
            MeshMeter.RouteTables.Add(1, new KeyValuePair<string, object?>("received", how == Received.Whole ? "whole" : "delta"));
            _log.Info("gateway {0}: {1}", _settings.Name, table.Summary);
            if (!table.Declared)
                _log.Warning("gateway {0}: the mesh config does not declare this gateway; add [gateways.{0}]", _settings.Name);
            _dataPlane.Tell(table);
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
