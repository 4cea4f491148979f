using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Health;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;

namespace Mesh.Director;

/// <summary>
/// What the director knows of the mesh's health: the state of each service as its owner reports it, which
/// gateways it hears from, and the recent events an operator should know about (docs/adr/0007).
/// </summary>
public sealed partial class DirectorActor
{
    private const int EventsKept = 500;

    private readonly Dictionary<string, HealthReport> _healthReports = [];
    /// <summary>When each gateway was last heard from (a table request or a report).</summary>
    private readonly Dictionary<string, DateTimeOffset> _lastSeen = [];
    private readonly Dictionary<string, DateTimeOffset> _connectedSince = [];
    private readonly HashSet<string> _lost = [];
    private readonly LinkedList<MeshEvent> _events = new();
    /// <summary>The services entries must refuse now; part of every table.</summary>
    private IReadOnlyList<DownService> _down = [];

    private void Heard(string gateway)
    {
        if (_map?.Gateways.ContainsKey(gateway) != true) return;
        var now = DateTimeOffset.UtcNow;
        _lastSeen[gateway] = now;
        _connectedSince.TryAdd(gateway, now);
        ObservedChanged();
        if (!_lost.Remove(gateway)) return;
        Event("info", "gateway-back", gateway, $"gateway {gateway} is heard from again");
        RecomputeDown();
    }

    /// <summary>Called every second: a gateway silent for too long is lost, and its services' health unknown.</summary>
    private void CheckGateways()
    {
        var now = DateTimeOffset.UtcNow;
        var lost = _lastSeen.Where(s => !_lost.Contains(s.Key) && now - s.Value > _settings.GatewayLostAfter).ToList();
        foreach (var (gateway, seen) in lost)
        {
            _lost.Add(gateway);
            _connectedSince.Remove(gateway);
            Event("warning", "gateway-lost", gateway,
                $"gateway {gateway} not heard from for {(now - seen).TotalSeconds:0}s (last at {seen:HH:mm:ss} UTC)");
        }
        if (lost.Count > 0) RecomputeDown();
    }

    /// <summary>A gateway the config no longer declares is neither lost nor reporting.</summary>
    private void ForgetGatewaysNotIn(Mesh.Config.RouteMap map)
    {
        foreach (var gone in _lastSeen.Keys.Concat(_healthReports.Keys).Where(g => !map.Gateways.ContainsKey(g)).ToList())
        {
            _lastSeen.Remove(gone);
            _connectedSince.Remove(gone);
            _lost.Remove(gone);
            _healthReports.Remove(gone);
        }
    }

    private void OnHealthReport(HealthReport received)
    {
        if (_map is null) { Sender.Tell(new HealthReportReceived(received.Sequence)); return; }
        if (ReportAdmission.Admit(received, _map, DateTimeOffset.UtcNow, out var refused) is not { } report)
        {
            RefusedReport("health", received.Gateway, refused!);
            return;
        }
        Heard(report.Gateway);
        _healthReports.TryGetValue(report.Gateway, out var applied);
        if (applied is null || report.Sequence > applied.Sequence)
        {
            _healthReports[report.Gateway] = report;
            ObservedChanged();
            foreach (var now in report.Services.Where(s => _map?.Services.GetValueOrDefault(s.Service)?.Gateway == report.Gateway))
            {
                var before = applied?.Services.FirstOrDefault(s => s.Service == now.Service);
                if (before?.State == now.State) continue;
                if (now.State == HealthState.Down)
                    Event("warning", "service-down", now.Service, $"service {now.Service} (owned by {report.Gateway}) is down: {now.Reason}");
                else if (now.State == HealthState.Up && before is not null)
                    Event("info", "service-up", now.Service, $"service {now.Service} (owned by {report.Gateway}) is up again");
            }
            RecomputeDown();
        }
        Sender.Tell(new HealthReportReceived(report.Sequence));
    }

    /// <summary>Services their owner reports down; an owner that is lost reports nothing (its services are unknown, not down).</summary>
    private IReadOnlyList<DownService> DownServices() => _map is not { } map ? [] : map.Services.Values
        .Where(s => !_lost.Contains(s.Gateway))
        .Select(s => Reported(s.Name, s.Gateway))
        .Where(h => h?.State == HealthState.Down)
        .Select(h => new DownService(h!.Service, h.Reason ?? "down"))
        .ToArray();

    private ServiceHealth? Reported(string service, string owner) =>
        _healthReports.GetValueOrDefault(owner)?.Services.FirstOrDefault(s => s.Service == service);

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
        if (_lost.Contains(owner))
            return ("unknown", $"its owner {owner} is not heard from", _lastSeen.TryGetValue(owner, out var seen) ? seen : null);
        return Reported(service, owner) is { } h
            ? (h.State.ToString().ToLowerInvariant(), h.Reason, h.Since)
            : ("unknown", $"no report from {owner} yet", null);
    }

    private GatewayView GatewayViewOf(Mesh.Config.GatewayConfig g)
    {
        var seen = _lastSeen.TryGetValue(g.Name, out var s) ? s : (DateTimeOffset?)null;
        var connected = seen is not null && !_lost.Contains(g.Name);
        return new GatewayView(g.Name, g.Kind == Mesh.Config.GatewayKind.Core, g.Links.Select(l => l.ToString()).ToArray(), seen,
            connected, connected ? _connectedSince.GetValueOrDefault(g.Name) : seen, _reports.GetValueOrDefault(g.Name)?.Version);
    }

    /// <summary>Kept for the API (newest last), and logged.</summary>
    private void Event(string level, string kind, string subject, string message)
    {
        _events.AddLast(new MeshEvent(DateTimeOffset.UtcNow, level, kind, subject, message));
        if (kind.StartsWith("reload-")) MeshMeter.Reloads.Add(1, new KeyValuePair<string, object?>("result", kind["reload-".Length..]));
        if (_events.Count > EventsKept) _events.RemoveFirst();
        ObservedChanged();
        if (level == "warning") _log.Warning("director: {0}", message);
        else _log.Info("director: {0}", message);
    }
}
