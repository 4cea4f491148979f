using Mesh.Contracts.Health;
using Mesh.Gateway.Control;

namespace Mesh.Gateway.Health;

/// <summary>
/// Keeps the state of every service this gateway probes and decides when to send the whole set to the
/// director: on a change of state, until acknowledged, after the control plane (re)connects, and every
/// <see cref="RefreshEvery"/> (so the director never keeps a stale "up" or "down").
/// </summary>
public sealed class HealthReporter(string gateway)
{
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(15);

    private readonly Dictionary<string, ServiceHealth> _states = [];
    private readonly ReportSchedule _schedule = new(RefreshEvery);

    public void Changed(ServiceHealth health) => _states[health.Service] = health;

    public void Forget(string service) => _states.Remove(service);

    public void Acknowledged(long sequence) => _schedule.Acknowledged(sequence);

    public DateTimeOffset? UnacknowledgedSince => _schedule.UnacknowledgedSince;

    public HealthReport? Due(DateTimeOffset now, bool force = false)
    {
        var services = _states.Values.OrderBy(s => s.Service, StringComparer.Ordinal).ToArray();
        var signature = string.Join(";", services.Select(s => $"{s.Service}:{s.State}:{s.Since:O}"));
        return _schedule.Next(signature, now, force) is { } sequence ? new HealthReport(gateway, sequence, services) : null;
    }
}
