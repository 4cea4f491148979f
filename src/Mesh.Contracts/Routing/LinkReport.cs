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
public sealed record LinkReport(string Gateway, long Sequence, IReadOnlyList<LinkStatus> Links, string? Version = null) : IRoutingMessage;

/// <summary>
/// The director's acknowledgement, with its current table version: a gateway whose long poll was lost
/// on a link that died (and so has not heard of the new paths) fetches its table at once.
/// </summary>
public sealed record LinkReportReceived(long Sequence, long TableVersion) : IRoutingMessage;

/// <summary>
/// A route table's version: the config revision, the director's incarnation (a new director's tables
/// differ from the old one's, so every gateway fetches them), and how many times the working links
/// changed the paths since. Gateways only compare versions for equality (ADR 0002).
/// </summary>
public static class TableVersion
{
    private const int EpochBits = 20, IncarnationBits = 20;

    public static long Of(long revision, int incarnation, int pathsEpoch) =>
        (revision << (EpochBits + IncarnationBits)) | ((long)(incarnation & ((1 << IncarnationBits) - 1)) << EpochBits) | (long)(pathsEpoch & ((1 << EpochBits) - 1));

    public static long Revision(long version) => version >> (EpochBits + IncarnationBits);

    public static int PathsEpoch(long version) => (int)(version & ((1 << EpochBits) - 1));

    /// <summary>"v3" for revision 3 with the declared paths; "v3.2" after two changes of the working links.</summary>
    public static string Text(long version) =>
        PathsEpoch(version) == 0 ? $"v{Revision(version)}" : $"v{Revision(version)}.{PathsEpoch(version)}";
}
