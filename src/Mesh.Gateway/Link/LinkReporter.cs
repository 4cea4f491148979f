using Mesh.Contracts;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Control;

namespace Mesh.Gateway.Link;

/// <summary>
/// Decides when the gateway tells the director about its links: when a link goes up or down or its
/// cost changes, and every <see cref="RefreshEvery"/> in any case (a director that just took over has
/// heard nothing yet). Changes that undo themselves between two checks are never sent. A report the
/// director has not acknowledged is sent again at every check. A round trip is reported again only when
/// its cost moves by two steps or more: pings on one LAN were seen to wander between 4 and 6 ms, and
/// each crossing of a step would otherwise have republished every table.
/// A link is also witnessed from the side that accepts it: a core gateway reports an edge's link up while
/// the edge's connections to it are alive. The edge's own report may be stale (sent during an outage,
/// delivered after it, while the edge's control channel is still reconnecting); the director uses a link
/// that either side sees working.
/// </summary>
public sealed class LinkReporter(string gateway)
{
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2), RefreshEvery = TimeSpan.FromSeconds(15);

    private readonly Dictionary<string, bool> _up = [];
    /// <summary>Peers that dial us: whether one of their connections is alive.</summary>
    private readonly Dictionary<string, bool> _dialedByPeer = [];
    private readonly Dictionary<string, double> _reportedRtt = [];
    private readonly ReportSchedule _schedule = new(RefreshEvery);

    public void Changed(string peer, bool up) => _up[peer] = up;

    /// <summary>What this gateway sees of the connections <paramref name="peer"/> dials to it.</summary>
    public void PeerDialed(string peer, bool alive)
    {
        if (alive || _dialedByPeer.ContainsKey(peer)) _dialedByPeer[peer] = alive;   // a peer that never dialed us is not reported
    }

    public void Forget(string peer)
    {
        _up.Remove(peer);
        _dialedByPeer.Remove(peer);
        _reportedRtt.Remove(peer);
    }

    /// <summary>At least one link works: the network is there, whatever the control plane says.</summary>
    public bool AnyUp => _up.ContainsValue(true);

    public void Acknowledged(long sequence) => _schedule.Acknowledged(sequence);

    public DateTimeOffset? UnacknowledgedSince => _schedule.UnacknowledgedSince;

    /// <summary>The report to send now, or null; <paramref name="force"/> after the control plane (re)started.</summary>
    public LinkReport? Due(Func<string, double?> rttMs, DateTimeOffset now, bool force = false)
    {
        var peers = _up.Keys.Union(_dialedByPeer.Keys).Order(StringComparer.Ordinal);
        var links = peers.Select(peer => (peer, up: _up.GetValueOrDefault(peer) || _dialedByPeer.GetValueOrDefault(peer)))
            .Select(l => new LinkStatus(l.peer, l.up, l.up ? Steady(l.peer, Round(rttMs(l.peer))) : null)).ToArray();
        var signature = string.Join(";", links.Select(l => $"{l.Peer}:{l.Up}:{l.Cost}"));
        return _schedule.Next(signature, now, force) is { } sequence ? new LinkReport(gateway, sequence, links, MeshVersion.Current) : null;
    }

    private static double? Round(double? ms) => ms is { } v ? Math.Round(v, 2) : null;

    /// <summary>The round trip to report: the last one reported while the cost stays within one step of it.</summary>
    private double? Steady(string peer, double? rtt)
    {
        if (rtt is not { } now) return null;
        if (_reportedRtt.TryGetValue(peer, out var before) && Math.Abs(Cost(now) - Cost(before)) <= 1) return before;
        _reportedRtt[peer] = now;
        return now;
    }

    private static int Cost(double rtt) => new LinkStatus("", true, rtt).Cost;
}
