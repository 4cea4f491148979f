using Mesh.Contracts.Routing;
using Mesh.Gateway.Health;
using Mesh.Transport.Links;

namespace Mesh.Gateway;

/// <summary>
/// What the gateway tells the director (its links and the health of the services it owns, ADRs 0006 and
/// 0007), and the watchdog that starts a new control plane when those reports go unanswered.
/// </summary>
public sealed partial class GatewayActor
{
    /// <summary>A HealthActor per service this gateway owns and checks; a changed target or check starts a fresh one.</summary>
    private void ProbeOwnedServices(RouteTable table)
    {
        var wanted = table.Owned.Where(o => o.Check.Kind != "none").ToDictionary(o => o.Name);
        foreach (var (name, probe) in _probes.Where(p => !wanted.TryGetValue(p.Key, out var w) || w != p.Value.Service).ToList())
        {
            Context.Stop(probe.Actor);
            _probes.Remove(name);
            _health.Forget(name);
            _flows!.Health.Forget(name);
        }
        foreach (var (name, service) in wanted.Where(w => !_probes.ContainsKey(w.Key)))
            _probes[name] = (Context.ActorOf(HealthActor.Props(service), $"{ChildFailure.ProbePrefix}{++_probeCount}"), service);
    }

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
