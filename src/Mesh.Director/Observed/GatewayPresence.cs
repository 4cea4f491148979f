using Mesh.Director.Store;

namespace Mesh.Director.Observed;

/// <summary>
/// Pure: which gateways the director hears from. A gateway is heard from when it asks for its table or
/// reports; one silent for longer than the limit is lost until it is heard from again.
/// </summary>
public sealed class GatewayPresence
{
    private readonly Dictionary<string, DateTimeOffset> _lastSeen = [];
    private readonly Dictionary<string, DateTimeOffset> _connectedSince = [];
    private readonly HashSet<string> _lost = [];

    /// <returns>true if the gateway was lost until now (it is back)</returns>
    public bool Heard(string gateway, DateTimeOffset now)
    {
        _lastSeen[gateway] = now;
        _connectedSince.TryAdd(gateway, now);
        return _lost.Remove(gateway);
    }

    /// <summary>The gateways silent for longer than <paramref name="lostAfter"/> that were not lost yet, now lost, with when each was last heard.</summary>
    public IReadOnlyList<(string Gateway, DateTimeOffset LastSeen)> FindLost(DateTimeOffset now, TimeSpan lostAfter)
    {
        var lost = _lastSeen.Where(s => !_lost.Contains(s.Key) && now - s.Value > lostAfter).Select(s => (s.Key, s.Value)).ToList();
        foreach (var (gateway, _) in lost)
        {
            _lost.Add(gateway);
            _connectedSince.Remove(gateway);
        }
        return lost;
    }

    public bool IsLost(string gateway) => _lost.Contains(gateway);

    public DateTimeOffset? LastSeen(string gateway) => _lastSeen.TryGetValue(gateway, out var seen) ? seen : null;

    /// <summary>Heard from and not lost since: since when (null otherwise).</summary>
    public DateTimeOffset? ConnectedSince(string gateway) => _connectedSince.TryGetValue(gateway, out var since) && !_lost.Contains(gateway) ? since : null;

    /// <summary>A gateway the config no longer declares is neither lost nor seen.</summary>
    public void ForgetAllBut(Func<string, bool> declared)
    {
        foreach (var gone in _lastSeen.Keys.Where(g => !declared(g)).ToList())
        {
            _lastSeen.Remove(gone);
            _connectedSince.Remove(gone);
            _lost.Remove(gone);
        }
    }

    public GatewaySeen[] ToStored() =>
        [.. _lastSeen.Select(s => new GatewaySeen(s.Key, s.Value, _connectedSince.TryGetValue(s.Key, out var since) ? since : null, _lost.Contains(s.Key)))];

    public void Restore(GatewaySeen g)
    {
        _lastSeen[g.Name] = g.LastSeen;
        if (g.ConnectedSince is { } since) _connectedSince[g.Name] = since;
        if (g.Lost) _lost.Add(g.Name);
    }
}
