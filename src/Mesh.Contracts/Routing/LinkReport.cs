namespace Mesh.Contracts.Routing;

/// <summary>What a gateway found when it tested its link to <paramref name="Peer"/>: up or down, and the round-trip time.</summary>
public sealed record LinkStatus(string Peer, bool Up, double? RttMs)
{
    /// <summary>
    /// A path's cost per link: the round trip in 5 ms steps, at least 1. Steps keep jitter from changing
    /// paths (every link on one LAN costs 1) while a link across a continent costs what it takes.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Cost => RttMs is { } rtt ? Math.Max(1, (int)Math.Ceiling(rtt / 5)) : 1;
}

/// <summary>
/// A gateway's view of the links it dials (to every core gateway), sent to the director when a link goes
/// up or down or its cost changes, and every so often in any case (a new director learns them that way).
/// Links whose state is not known yet (still dialing for the first time) are left out. The director
/// acknowledges each (<see cref="LinkReportReceived"/>); the gateway sends it again until it does
/// (a report about a dying link often travels over it).
/// </summary>
/// <param name="Version">the Mesh version the gateway runs (shown by the API and `mesh gateways`)</param>
public sealed record LinkReport(string Gateway, long Sequence, IReadOnlyList<LinkStatus> Links, string? Version = null) : IRoutingMessage
{
    /// <summary>
    /// The same links, each as up or down with the same cost (and timed or not) as in <paramref name="other"/>:
    /// what paths use did not change, whatever the exact round trips.
    /// </summary>
    public bool SameLinksAs(LinkReport other) =>
        Links.Count == other.Links.Count
        && Links.OrderBy(l => l.Peer, StringComparer.Ordinal).SequenceEqual(other.Links.OrderBy(l => l.Peer, StringComparer.Ordinal), PathsSee.Instance);

    private sealed class PathsSee : IEqualityComparer<LinkStatus>
    {
        public static readonly PathsSee Instance = new();
        public bool Equals(LinkStatus? x, LinkStatus? y) =>
            x is not null && y is not null && x.Peer == y.Peer && x.Up == y.Up && x.Cost == y.Cost && (x.RttMs is null) == (y.RttMs is null);
        public int GetHashCode(LinkStatus s) => HashCode.Combine(s.Peer, s.Up, s.Cost);
    }
}

/// <summary>
/// The director's acknowledgement, with its current table version: a gateway whose long poll was lost
/// on a link that died (and so has not heard of the new paths) fetches its table at once.
/// </summary>
public sealed record LinkReportReceived(long Sequence, long TableVersion) : IRoutingMessage;

/// <summary>
/// A route table's version: the config revision and a counter of the tables published under it ("v3.2":
/// revision 3, counter 2; the first table of a revision has counter 0 and reads "v3"). The counter only grows, across directors too: a director that
/// starts or takes over numbers its tables above every counter the previous one could have published, which
/// the store holds as reserved (ADR 0013). As a number it is <c>revision * 2^40 + counter</c>, so versions
/// order numerically: v1.10 &gt; v1.9 &gt; v1, and v2 &gt; v1.10.
/// </summary>
public static class TableVersion
{
    private const int CounterBits = 40;
    private const long CounterMask = (1L << CounterBits) - 1;

    public static long Of(long revision, long counter) => (revision << CounterBits) | (counter & CounterMask);

    public static long Revision(long version) => version >> CounterBits;

    /// <summary>How many tables were published under the revision before this one (0 for the first).</summary>
    public static long Counter(long version) => version & CounterMask;

    /// <summary>"v3" for revision 3 with counter 0, "v3.2" with counter 2.</summary>
    public static string Text(long version) =>
        Counter(version) == 0 ? $"v{Revision(version)}" : $"v{Revision(version)}.{Counter(version)}";
}
