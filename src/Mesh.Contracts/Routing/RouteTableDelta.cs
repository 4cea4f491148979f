namespace Mesh.Contracts.Routing;

/// <summary>
/// What changed in a gateway's table since the version it holds, when only paths or health changed (a link
/// went down, a service stopped answering): the next hops set or removed, and the services down if they
/// changed. A few hundred bytes where the whole table of a core gateway grows with the mesh. Anything else
/// changed (a reload): the director sends the whole table. A gateway that does not hold
/// <paramref name="BaseVersion"/> asks for the whole table.
/// </summary>
/// <param name="Hops">next hops new or changed since <paramref name="BaseVersion"/></param>
/// <param name="HopsRemoved">destinations no longer reached</param>
/// <param name="DownServices">the services down now; null: as in the held table</param>
public sealed record RouteTableDelta(long BaseVersion, long Version, string Gateway, IReadOnlyList<NextHop> Hops,
    IReadOnlyList<string> HopsRemoved, IReadOnlyList<DownService>? DownServices) : IRoutingMessage
{
    /// <summary>
    /// The base's next hops and services down, hashed (<see cref="Fingerprint"/>): a version number alone may name two
    /// tables when two directors numbered alike (ADR 0013's limits), and a delta must never patch the wrong one.
    /// </summary>
    public long BaseFingerprint { get; init; }

    /// <summary>
    /// The delta from <paramref name="held"/> to <paramref name="next"/> (the same gateway's tables), or null when
    /// more than next hops and health differ. The rest is compared by reference: the director shares it between
    /// the tables of one config, so a reload (new lists, even equal ones) gets a whole table.
    /// </summary>
    public static RouteTableDelta? Between(RouteTable held, RouteTable next)
    {
        if (held.Gateway != next.Gateway || held.Mesh != next.Mesh || held.Declared != next.Declared
            || !ReferenceEquals(held.Entries, next.Entries) || !ReferenceEquals(held.Owned, next.Owned)
            || !ReferenceEquals(held.Gateways, next.Gateways) || !ReferenceEquals(held.Services, next.Services)
            || !ReferenceEquals(held.Access, next.Access) || !ReferenceEquals(held.Revoked, next.Revoked) || held.Flows != next.Flows)
            return null;
        var (set, removed) = ReferenceEquals(held.NextHops, next.NextHops) ? ([], []) : HopChanges(held.NextHops, next.NextHops);
        var down = SameDown(held.DownServices, next.DownServices) ? null : next.DownServices ?? [];
        return new RouteTableDelta(held.Version, next.Version, next.Gateway, set, removed, down) { BaseFingerprint = Fingerprint(held) };
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RouteTable, object> Fingerprints = new();

    /// <summary>FNV-1a over a table's next hops and services down: the same on every node and run (not string.GetHashCode, which is per process); computed once per table.</summary>
    public static long Fingerprint(RouteTable table) => (long)Fingerprints.GetValue(table, t =>
    {
        var hash = 14695981039346656037UL;
        void Add(string? s)
        {
            foreach (var c in s ?? "") { hash ^= c; hash *= 1099511628211UL; }
            hash ^= 0xFF; hash *= 1099511628211UL;   // a separator: ("ab","c") is not ("a","bc")
        }
        foreach (var hop in t.NextHops)
        {
            Add(hop.Destination);
            Add(hop.Via);
            hash ^= (ulong)BitConverter.DoubleToInt64Bits(hop.Cost); hash *= 1099511628211UL;
        }
        foreach (var down in t.DownServices ?? [])
        {
            Add(down.Name);
            Add(down.Reason);
        }
        return (object)(long)hash;
    });

    /// <summary>
    /// The hops set and removed between two lists of hops (ordered by destination, as the director orders them;
    /// others are ordered first): one walk of both, where a hop the director kept is the same object (a reference compare).
    /// </summary>
    private static (List<NextHop> Set, List<string> Removed) HopChanges(IReadOnlyList<NextHop> before, IReadOnlyList<NextHop> after)
    {
        (before, after) = (InOrder(before), InOrder(after));
        List<NextHop> set = [];
        List<string> removed = [];
        int i = 0, j = 0;
        while (i < before.Count || j < after.Count)
        {
            var order = i == before.Count ? 1 : j == after.Count ? -1 : string.CompareOrdinal(before[i].Destination, after[j].Destination);
            if (order < 0) removed.Add(before[i++].Destination);
            else if (order > 0) set.Add(after[j++]);
            else
            {
                if (!ReferenceEquals(before[i], after[j]) && before[i] != after[j]) set.Add(after[j]);
                i++;
                j++;
            }
        }
        return (set, removed);
    }

    /// <summary>
    /// <paramref name="held"/> with the hops of <paramref name="set"/> in place of (or beside) its own and the destinations
    /// <paramref name="removed"/> gone, ordered by destination: one walk of both lists. Also how the director patches a table.
    /// </summary>
    public static NextHop[] Merge(IReadOnlyList<NextHop> held, IReadOnlyList<NextHop> set, IReadOnlyCollection<string> removed)
    {
        (held, set) = (InOrder(held), InOrder(set));
        var gone = removed.Count == 0 ? null : new HashSet<string>(removed, StringComparer.Ordinal);
        var merged = new List<NextHop>(held.Count + set.Count);
        int i = 0, j = 0;
        while (i < held.Count || j < set.Count)
        {
            var order = i == held.Count ? 1 : j == set.Count ? -1 : string.CompareOrdinal(held[i].Destination, set[j].Destination);
            if (order < 0)
            {
                if (gone?.Contains(held[i].Destination) != true) merged.Add(held[i]);
                i++;
            }
            else
            {
                merged.Add(set[j++]);
                if (order == 0) i++;
            }
        }
        return [.. merged];
    }

    private static IReadOnlyList<NextHop> InOrder(IReadOnlyList<NextHop> hops)
    {
        for (var i = 1; i < hops.Count; i++)
            if (string.CompareOrdinal(hops[i - 1].Destination, hops[i].Destination) >= 0)
                return hops.OrderBy(h => h.Destination, StringComparer.Ordinal).ToArray();
        return hops;
    }

    /// <summary>The table <paramref name="held"/> becomes; null if it is not this delta's base (its version, or its content, differs: the gateway then asks for the whole table).</summary>
    public RouteTable? ApplyTo(RouteTable held)
    {
        if (held.Version != BaseVersion || held.Gateway != Gateway || Fingerprint(held) != BaseFingerprint) return null;
        var hops = Hops.Count > 0 || HopsRemoved.Count > 0 ? Merge(held.NextHops, Hops, HopsRemoved) : held.NextHops;
        return held with { Version = Version, NextHops = hops, DownServices = DownServices ?? held.DownServices };
    }

    /// <summary>True when nothing but the version changed: the gateway keeps its table under the new number.</summary>
    public bool IsEmpty => Hops.Count == 0 && HopsRemoved.Count == 0 && DownServices is null;

    private static bool SameDown(IReadOnlyList<DownService>? a, IReadOnlyList<DownService>? b) =>
        ReferenceEquals(a, b) || (a ?? []).SequenceEqual(b ?? []);
}
