using Mesh.Config;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;

namespace Mesh.Director.Observed;

/// <summary>A service whose reported state changed: <paramref name="Before"/> is null the first time it is reported.</summary>
public sealed record HealthChange(string Owner, ServiceHealth? Before, ServiceHealth Now);

/// <summary>Pure: each gateway's last health report (already admitted: about its own services), and what follows from them.</summary>
public sealed class HealthBook
{
    private readonly Dictionary<string, HealthReport> _reports = [];

    public IReadOnlyCollection<HealthReport> Reports => _reports.Values;

    /// <summary>Applies a report newer than the one held; returns the services whose state changed, or null if it was not newer.</summary>
    public IReadOnlyList<HealthChange>? Apply(HealthReport report)
    {
        _reports.TryGetValue(report.Gateway, out var applied);
        if (applied is not null && report.Sequence <= applied.Sequence) return null;
        _reports[report.Gateway] = report;
        return report.Services
            .Select(now => new HealthChange(report.Gateway, applied?.Services.FirstOrDefault(s => s.Service == now.Service), now))
            .Where(c => c.Before?.State != c.Now.State)
            .ToArray();
    }

    /// <summary>A report a previous director kept (already admitted again by the caller).</summary>
    public void Restore(HealthReport report) => _reports[report.Gateway] = report;

    public void ForgetAllBut(Func<string, bool> declared)
    {
        foreach (var gone in _reports.Keys.Where(g => !declared(g)).ToList()) _reports.Remove(gone);
    }

    public ServiceHealth? Reported(string service, string owner) =>
        _reports.GetValueOrDefault(owner)?.Services.FirstOrDefault(s => s.Service == service);

    /// <summary>Services their owner reports down; an owner that is lost reports nothing (its services are unknown, not down).</summary>
    public IReadOnlyList<DownService> Down(RouteMap map, Func<string, bool> ownerLost) => map.Services.Values
        .Where(s => !ownerLost(s.Gateway))
        .Select(s => Reported(s.Name, s.Gateway))
        .Where(h => h?.State == HealthState.Down)
        .Select(h => new DownService(h!.Service, h.Reason ?? "down"))
        .ToArray();
}
