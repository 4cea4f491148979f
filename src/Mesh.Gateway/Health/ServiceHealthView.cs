using System.Collections.Concurrent;
using Mesh.Contracts.Routing;

namespace Mesh.Gateway.Health;

/// <summary>
/// The services this gateway knows to be down, readable from any flow's thread: its own probes (it owns
/// them) and the director's word in the route table (services owned elsewhere). An entry refuses new
/// flows to them at once rather than leave a client waiting on a service that will not answer.
/// </summary>
public sealed class ServiceHealthView
{
    /// <summary>Services probed here: why down, or null when up. The owner trusts its own probes first.</summary>
    private readonly ConcurrentDictionary<string, string?> _probedHere = new();
    private volatile IReadOnlyList<DownService> _downElsewhere = [];

    public void Probed(string service, string? downReason) => _probedHere[service] = downReason;

    public void Forget(string service) => _probedHere.TryRemove(service, out _);

    /// <summary>The services probed here and whether each is up (for the metrics).</summary>
    public IEnumerable<(string Service, bool Up)> ProbedHere => _probedHere.Select(p => (p.Key, p.Value is null));

    public void ReportedDown(IReadOnlyList<DownService>? services) => _downElsewhere = services ?? [];

    /// <summary>Why a new flow to <paramref name="service"/> is refused now, or null if it may go.</summary>
    public string? DownReason(string service) =>
        _probedHere.TryGetValue(service, out var why) ? why
        : _downElsewhere.FirstOrDefault(d => d.Name == service)?.Reason;
}
