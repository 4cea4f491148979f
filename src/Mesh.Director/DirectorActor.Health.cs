using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Health;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;
using Mesh.Director.Observed;

namespace Mesh.Director;

/// <summary>
/// What the director knows of the mesh's health: the state of each service as its owner reports it
/// (<see cref="HealthBook"/>), which gateways it hears from (<see cref="GatewayPresence"/>), and the recent
/// events an operator should know about (<see cref="EventLog"/>; docs/adr/0007). This file only ties them to
/// the actor: what changes a table, and what is logged.
/// </summary>
public sealed partial class DirectorActor
{
    private readonly HealthBook _health = new();
    private readonly GatewayPresence _presence = new();
    private readonly EventLog _events = new();
    /// <summary>The services entries must refuse now; part of every table.</summary>
    private IReadOnlyList<DownService> _down = [];

    private void Heard(string gateway)
    {
        if (_map?.Gateways.ContainsKey(gateway) != true) return;
        var back = _presence.Heard(gateway, Now);
        ObservedChanged();
        if (!back) return;
        Event(EventLevel.Info, EventKind.GatewayBack, gateway, $"gateway {gateway} is heard from again");
        RecomputeDown();
    }

    /// <summary>Called every second: a gateway silent for too long is lost, and its services' health unknown.</summary>
    private void CheckGateways()
    {
        var now = Now;
        var lost = _presence.FindLost(now, _settings.GatewayLostAfter);
        foreach (var (gateway, seen) in lost)
            Event(EventLevel.Warning, EventKind.GatewayLost, gateway,
                $"gateway {gateway} not heard from for {(now - seen).TotalSeconds:0}s (last at {seen:HH:mm:ss} UTC)");
        if (lost.Count > 0) RecomputeDown();
    }

    /// <summary>A gateway the config no longer declares is neither lost nor reporting.</summary>
    private void ForgetGatewaysNotIn(Mesh.Config.RouteMap map)
    {
        _presence.ForgetAllBut(map.Gateways.ContainsKey);
        _health.ForgetAllBut(map.Gateways.ContainsKey);
    }

    private void OnHealthReport(HealthReport received)
    {
        if (_map is null) { Sender.Tell(new HealthReportReceived(received.Sequence)); return; }
        if (ReportAdmission.Admit(received, _map, Now, out var refused) is not { } report)
        {
            RefusedReport("health", received.Gateway, refused!);
            return;
        }
        Heard(report.Gateway);
        if (_health.Apply(report) is { } changes)
        {
            ObservedChanged();
            foreach (var (owner, before, now) in changes)
            {
                if (now.State == HealthState.Down)
                    Event(EventLevel.Warning, EventKind.ServiceDown, now.Service, $"service {now.Service} (owned by {owner}) is down: {now.Reason}");
                else if (now.State == HealthState.Up && before is not null)
                    Event(EventLevel.Info, EventKind.ServiceUp, now.Service, $"service {now.Service} (owned by {owner}) is up again");
            }
            RecomputeDown();
        }
        Sender.Tell(new HealthReportReceived(report.Sequence));
    }

    private IReadOnlyList<DownService> DownServices() => _map is not { } map ? [] : _health.Down(map, _presence.IsLost);

    /// <summary>A service went down or came back: every table says so (entries refuse at once), as a new version.</summary>
    private void RecomputeDown()
    {
        var down = DownServices();
        if (down.SequenceEqual(_down)) return;
        _down = down;
        if (_map is null) return;
        _pathsEpoch++;
        Republish();
    }

    /// <summary>(state, reason, since) of a service as the API shows it.</summary>
    private (string, string?, DateTimeOffset?) HealthOf(string service, string owner, string check)
    {
        if (check == "none") return ("unknown", "not checked (check kind \"none\")", null);
        if (_presence.IsLost(owner)) return ("unknown", $"its owner {owner} is not heard from", _presence.LastSeen(owner));
        return _health.Reported(service, owner) is { } h
            ? (h.State.ToString().ToLowerInvariant(), h.Reason, h.Since)
            : ("unknown", $"no report from {owner} yet", null);
    }

    private GatewayView GatewayViewOf(Mesh.Config.GatewayConfig g)
    {
        var seen = _presence.LastSeen(g.Name);
        var connected = seen is not null && !_presence.IsLost(g.Name);
        return new GatewayView(g.Name, g.Kind == Mesh.Config.GatewayKind.Core, g.Links.Select(l => l.ToString()).ToArray(), seen,
            connected, connected ? _presence.ConnectedSince(g.Name) : seen, _reports.GetValueOrDefault(g.Name)?.Version);
    }

    /// <summary>Kept for the API (newest last), and logged.</summary>
    private void Event(EventLevel level, EventKind kind, string subject, string message)
    {
        _events.Add(Now, level, kind, subject, message);
        if (kind is EventKind.ReloadApplied or EventKind.ReloadFailed)
            MeshMeter.Reloads.Add(1, new KeyValuePair<string, object?>("result", kind == EventKind.ReloadApplied ? "applied" : "failed"));
        ObservedChanged();
        if (level == EventLevel.Warning) _log.Warning("director: {0}", message);
        else _log.Info("director: {0}", message);
    }
}
