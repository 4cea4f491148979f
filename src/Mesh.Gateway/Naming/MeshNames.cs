using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Mesh.Config;
using Mesh.Contracts.Routing;

namespace Mesh.Gateway.Naming;

/// <summary>What a DNS server answers, and in which section; <see cref="Code"/> alone for an error.</summary>
public sealed record DnsAnswer(ReturnCode Code, IReadOnlyList<DnsRecordBase> Answers, IReadOnlyList<DnsRecordBase> Additional,
    IReadOnlyList<DnsRecordBase> Authority)
{
    public static DnsAnswer Error(ReturnCode code) => new(code, [], [], []);
}

/// <summary>
/// The mesh's names under <c>mesh.</c>, answered from this gateway's route table (pure: no sockets; docs/cli.md, --dns):
/// <c>SERVICE.mesh</c> A/AAAA, the addresses of this gateway's entries for the service; <c>_SERVICE._tcp.mesh</c> SRV,
/// one per entry (its port, target <c>SERVICE.mesh</c>, whose addresses come as additional records);
/// <c>NAME.gateway.mesh</c> A/AAAA, that gateway's link addresses. A name the table does not know is NXDOMAIN, a known
/// one without an address of the type asked is an empty answer (NODATA); a name outside <c>mesh.</c> is REFUSED (this
/// is no recursive resolver). Before the first route table every name under <c>mesh.</c> is SERVFAIL (ask again).
/// </summary>
public static class MeshNames
{
    public static readonly DomainName Zone = DomainName.Parse("mesh");
    /// <summary>Seconds a resolver may keep an answer: short, as the table changes with the config and health.</summary>
    public const int Ttl = 5;

    /// <param name="wildcard">the address to give for an entry bound to every address (0.0.0.0, [::]), by family; null: none</param>
    public static DnsAnswer For(RouteTable? table, DomainName name, RecordType type, Func<AddressFamily, IPAddress?> wildcard)
    {
        if (!name.IsEqualOrSubDomainOf(Zone)) return DnsAnswer.Error(ReturnCode.Refused);
        if (table is null) return DnsAnswer.Error(ReturnCode.ServerFailure);
        var labels = name.Labels.Select(l => l.ToLowerInvariant()).ToArray();
        return labels switch
        {
            ["mesh"] => type is RecordType.Soa or RecordType.Any ? new(ReturnCode.NoError, [Soa(table)], [], []) : Empty(table),
            [var service, "mesh"] when Known(table, service) => Found(table, Addresses(table, service, name, type, wildcard), []),
            [['_', .. var service], "_tcp", "mesh"] when Known(table, service) => type is RecordType.Srv or RecordType.Any
                ? Found(table, Srv(table, service, name), Addresses(table, service, DomainName.Parse($"{service}.mesh"), RecordType.Any, wildcard))
                : Empty(table),
            [var gateway, "gateway", "mesh"] when table.GatewayNamed(gateway) is { } g => Found(table, Links(g, name, type), []),
            _ => new(ReturnCode.NxDomain, [], [], [Soa(table)]),
        };
    }

    private static bool Known(RouteTable table, string service) =>
        table.ServiceNamed(service) is not null || table.Entries.Any(e => e.Service == service);

    private static DnsAnswer Found(RouteTable table, IReadOnlyList<DnsRecordBase> answers, IReadOnlyList<DnsRecordBase> additional) =>
        answers.Count > 0 ? new(ReturnCode.NoError, answers, additional, []) : Empty(table);

    /// <summary>The name exists, but not with that type: NOERROR, no answer, the zone's SOA for negative caching.</summary>
    private static DnsAnswer Empty(RouteTable table) => new(ReturnCode.NoError, [], [], [Soa(table)]);

    private static SoaRecord Soa(RouteTable table) => new(Zone, Ttl, DomainName.Parse($"{table.Gateway}.gateway.mesh"),
        DomainName.Parse("hostmaster.mesh"), (uint)(table.Version ^ (table.Version >> 32)), 60, 60, 600, Ttl);

    private static List<(ListenEntry Entry, HostPort At)> EntriesOf(RouteTable table, string service) =>
        [.. table.Entries.Where(e => e.Service == service).Select(e => (e, HostPort.TryParse(e.Listen, out var hp, out _) ? hp : null))
            .Where(x => x.Item2 is not null).Select(x => (x.e, x.Item2!))];

    private static List<DnsRecordBase> Addresses(RouteTable table, string service, DomainName name, RecordType type,
        Func<AddressFamily, IPAddress?> wildcard) =>
        Records(name, type, EntriesOf(table, service).Select(e => e.At.Host), wildcard);

    private static List<DnsRecordBase> Srv(RouteTable table, string service, DomainName name)
    {
        var target = DomainName.Parse($"{service}.mesh");
        return [.. EntriesOf(table, service).Select(e => e.At.Port).Distinct().Order().Select(port => new SrvRecord(name, Ttl, 0, 0, (ushort)port, target))];
    }

    private static List<DnsRecordBase> Links(GatewayInfo gateway, DomainName name, RecordType type) =>
        Records(name, type, gateway.Links.Select(l => HostPort.TryParse(l, out var hp, out _) ? hp!.Host : null).OfType<string>(), _ => null);

    /// <summary>A and AAAA records for the hosts that are IP addresses (a host name has no address here to give), once each.</summary>
    private static List<DnsRecordBase> Records(DomainName name, RecordType type, IEnumerable<string> hosts, Func<AddressFamily, IPAddress?> wildcard)
    {
        var addresses = hosts.Select(h => IPAddress.TryParse(h, out var ip) ? ip : null).OfType<IPAddress>()
            .Select(ip => ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) ? wildcard(ip.AddressFamily) : ip).OfType<IPAddress>().Distinct();
        return [.. addresses.Where(ip => ip.AddressFamily == AddressFamily.InterNetwork ? type is RecordType.A or RecordType.Any : type is RecordType.Aaaa or RecordType.Any)
            .Select(ip => ip.AddressFamily == AddressFamily.InterNetwork ? (DnsRecordBase)new ARecord(name, Ttl, ip) : new AaaaRecord(name, Ttl, ip))];
    }
}
