using Mesh.Config;
using Mesh.Contracts.Routing;

namespace Mesh.Director.Routing;

/// <summary>
/// Pure: the tables a director serves at its current version, each built when first asked for, and the last two
/// each gateway was served: the bases of its next delta. After a change of links only the tables it may alter
/// are built again (<see cref="RouteTables.Builder.MayDiffer"/>); the others keep their lists under the new
/// version, so their delta is empty. After a health change every table keeps its paths. A gateway that holds
/// a base gets a <see cref="RouteTableDelta"/> (a few hundred bytes), any other the whole table.
/// </summary>
public sealed class TableCache
{
    private RouteMap? _map;
    private LinkBook? _links;
    private RouteTables.Builder? _builder;
    /// <summary>What changed in paths since the tables of the current version were built; null: nothing.</summary>
    private PathsChanged? _pending;
    private Dictionary<string, RouteTable> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Served> _served = new(StringComparer.Ordinal);
    private IReadOnlyList<DownService> _down = [];
    /// <summary>Tables of the previous version that <see cref="_change"/> may alter: patched, not built again, when asked for.</summary>
    private readonly Dictionary<string, RouteTable> _stale = new(StringComparer.Ordinal);
    /// <summary>What changed in paths between the previous version and the current one.</summary>
    private PathsChanged? _change;

    public long Version { get; private set; }

    /// <summary>A new config, or links taken from scratch: every table is built again, and sent whole.</summary>
    public void Reset(RouteMap map, LinkBook links)
    {
        (_map, _links, _builder) = (map, links, null);
        _pending = PathsChanged.All;
        _served.Clear();
        _stale.Clear();
    }

    /// <summary>Working links changed (<see cref="LinkBook.Apply"/>): paths are updated where the change matters.</summary>
    public void LinksChanged(IReadOnlyList<LinkChange> changes)
    {
        if (_builder is null) return;   // built from the book's links when first asked
        _builder = _builder.With(changes, out var changed);
        _pending = _pending?.And(changed) ?? changed;
    }

    /// <summary>
    /// A new version: the tables a change left alone are carried over under it; the others are patched (their next
    /// hops to the destinations whose paths changed) or built again, when asked for.
    /// </summary>
    public void Publish(long version, IReadOnlyList<DownService> down)
    {
        var carried = new Dictionary<string, RouteTable>(StringComparer.Ordinal);
        _stale.Clear();
        foreach (var (gateway, table) in _tables)
        {
            if (_pending is null || (_builder is { } b && !b.MayDiffer(gateway, _pending)))
                carried[gateway] = table with { Version = version, DownServices = down };
            else _stale[gateway] = table;
        }
        (_tables, _change, _pending, _down, Version) = (carried, _pending, null, down, version);
    }

    /// <summary>The table of a declared gateway at the current version (built once).</summary>
    public RouteTable For(string gateway)
    {
        if (!_tables.TryGetValue(gateway, out var table))
        {
            _builder ??= new RouteTables.Builder(_map!, _links!.Working());
            var patched = _change is { } change && _pending is null && _stale.Remove(gateway, out var stale) ? _builder.Patched(stale, change, Version) : null;
            table = (patched ?? _builder.For(Version, gateway)) with { DownServices = _down };
            _tables[gateway] = table;
        }
        return table;
    }

    /// <summary>
    /// A gateway that holds <paramref name="knownVersion"/> (another than the current one): what changed since, when
    /// it takes deltas and one of the last two tables served to it has that version (a diff, so across any number of
    /// versions of one config), else its whole table. Only what is sent becomes a base: a table built for the API is not one.
    /// </summary>
    public IRoutingMessage Answer(string gateway, long knownVersion, bool deltas)
    {
        var table = For(gateway);
        var served = _served.GetValueOrDefault(gateway);
        var answer = deltas && served?.Of(knownVersion) is { } held && RouteTableDelta.Between(held, table) is { } delta
            ? (IRoutingMessage)delta
            : table;
        _served[gateway] = served?.After(table) ?? new Served(table, null);
        return answer;
    }

    /// <summary>
    /// The last table sent to a gateway (what it holds once that arrives: the base of its next delta, however many
    /// versions later) and the one sent before it, of another version: what it still holds while that answer is on
    /// the way. A gateway's requests cross (a long poll, a fetch after a report's acknowledgement), each asking from
    /// the version it holds, and their answers may arrive in either order: each gets the same delta, never the whole table.
    /// </summary>
    private sealed record Served(RouteTable Last, RouteTable? Before)
    {
        public RouteTable? Of(long version) => Last.Version == version ? Last : Before?.Version == version ? Before : null;

        public Served After(RouteTable sent) => sent.Version == Last.Version ? this with { Last = sent } : new Served(sent, Last);
    }
}
