using System.Collections.Concurrent;
using Mesh.Contracts.Routing;

namespace Mesh.Gateway.Health;

/// <summary>
/// The services this gateway knows to be down, readable from any flow's thread: its own probes (it owns
/// them) and the director's word in the route table (services owned elsewhere). An entry refuses new
/// flows to them at once rather than leave a client waiting on a service that will not answer, and stops
/// listening while they are down (<see cref="DownChanged"/>).
/// </summary>
public sealed class ServiceHealthView
{
    /// <summary>Services probed here: why down, or null when up. The owner trusts its own probes first.</summary>
    private readonly ConcurrentDictionary<string, string?> _probedHere = new();
    private volatile IReadOnlyList<DownService> _downElsewhere = [];

    /// <summary>Raised with a service's name when it goes down or comes back, as far as this gateway knows.</summary>
    public event Action<string>? DownChanged;

    public void Probed(string service, string? downReason)
    {
        var wasDown = IsDown(service);
        _probedHere[service] = downReason;
        RaiseIfChanged(service, wasDown);
    }

    public void Forget(string service)
    {
        var wasDown = IsDown(service);
        _probedHere.TryRemove(service, out _);
        RaiseIfChanged(service, wasDown);
    }

    /// <summary>The services probed here and whether each is up (for the metrics).</summary>
    public IEnumerable<(string Service, bool Up)> ProbedHere => _probedHere.Select(p => (p.Key, p.Value is null));

    public void ReportedDown(IReadOnlyList<DownService>? services)
    {
        services ??= [];
        var named = _downElsewhere.Concat(services).Select(d => d.Name).Distinct();
        var wasDown = named.ToDictionary(s => s, IsDown);
        _downElsewhere = services;
        foreach (var (service, down) in wasDown) RaiseIfChanged(service, down);
    }

    /// <summary>Why a new flow to <paramref name="service"/> is refused now, or null if it may go.</summary>
    public string? DownReason(string service) =>
        _probedHere.TryGetValue(service, out var why) ? why
        : _downElsewhere.FirstOrDefault(d => d.Name == service)?.Reason;

    private bool IsDown(string service) => DownReason(service) is not null;

    private void RaiseIfChanged(string service, bool wasDown)
    {
        if (IsDown(service) != wasDown) DownChanged?.Invoke(service);
    }
}
