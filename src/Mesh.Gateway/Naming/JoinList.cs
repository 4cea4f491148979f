using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Mesh.Config;

namespace Mesh.Gateway.Naming;

/// <summary>The link addresses an edge's control channel may start from, and why a lookup gave none (null: it went well).</summary>
public sealed record JoinAddresses(IReadOnlyList<HostPort> Addresses, string? Problem);

/// <summary>
/// An edge's --join: link addresses as given (HOST:PORT) and SRV names (dns:NAME) looked up again before each dial of
/// its control channel, so that moving a core gateway is a DNS change. Each SRV record is one core gateway's link
/// address (target:port, by priority, then weight); a name whose lookup fails keeps its last answer.
/// </summary>
public sealed class JoinList
{
    private readonly IReadOnlyList<HostPort> _fixed;
    private readonly IReadOnlyList<string> _names;
    private readonly Lazy<LookupClient> _client;
    private readonly Dictionary<string, IReadOnlyList<HostPort>> _lastGood = [];

    /// <param name="resolver">the DNS server to ask (--dns-resolver); null: the system's resolvers</param>
    public JoinList(IReadOnlyList<HostPort> addresses, IReadOnlyList<string> srvNames, IPEndPoint? resolver = null)
    {
        (_fixed, _names) = (addresses, srvNames);
        _client = new(() => new LookupClient(resolver is null ? new LookupClientOptions() : new LookupClientOptions(resolver)
        {
            Timeout = TimeSpan.FromSeconds(2), Retries = 1, UseCache = true,   // a record's TTL bounds how long a move takes to be seen
        }));
    }

    public static JoinList Of(params HostPort[] addresses) => new(addresses, []);

    public IReadOnlyList<HostPort> Fixed => _fixed;
    public IReadOnlyList<string> SrvNames => _names;
    public bool HasNames => _names.Count > 0;

    /// <summary>The fixed addresses, then each name's SRV answer. Never throws; one call at a time.</summary>
    public async Task<JoinAddresses> ResolveAsync(CancellationToken ct)
    {
        var all = new List<HostPort>(_fixed);
        var problems = new List<string>();
        foreach (var name in _names)
        {
            try { _lastGood[name] = await LookupAsync(name, ct); }
            catch (Exception e)
            {   // whatever the resolver or the answer did (timeouts, refusals, names it cannot parse): this name keeps its last answer
                problems.Add($"SRV lookup of {name} failed: {e.Message}{(_lastGood.ContainsKey(name) ? " (using its last answer)" : "")}");
            }
            all.AddRange(_lastGood.GetValueOrDefault(name) ?? []);
        }
        return new([.. all.Distinct()], problems.Count == 0 ? null : string.Join("; ", problems));
    }

    private async Task<IReadOnlyList<HostPort>> LookupAsync(string name, CancellationToken ct)
    {
        var client = _client.Value;
        var response = await client.QueryAsync(name, QueryType.SRV, cancellationToken: ct);
        if (response.HasError) throw new LookupException(response.ErrorMessage);
        var records = response.Answers.SrvRecords().Where(s => s.Target.Value is not ("." or "")).OrderBy(s => s.Priority).ThenByDescending(s => s.Weight).ToList();
        if (records.Count == 0) throw new LookupException("no SRV records");
        var found = new List<HostPort>();
        foreach (var srv in records)
        {
            var target = srv.Target.Value.TrimEnd('.');
            var glued = response.Additionals.OfType<AddressRecord>().Where(a => a.DomainName.Value.TrimEnd('.').Equals(target, StringComparison.OrdinalIgnoreCase))
                .Select(a => a.Address).ToArray();
            var addresses = glued.Length > 0 ? glued : (await client.GetHostEntryAsync(target).WaitAsync(ct))?.AddressList ?? [];
            // a target this resolver cannot give an address for is dialed by name (the system resolves it then)
            found.AddRange(addresses.Length > 0 ? addresses.Select(a => new HostPort(a.ToString(), srv.Port)) : [new HostPort(target, srv.Port)]);
        }
        return found;
    }

    private sealed class LookupException(string message) : Exception(message);
}
