using System.Net;
using Mesh.Config;

namespace Mesh.Node;

/// <summary>What one Mesh.Node process was asked to be, from its command line.</summary>
public sealed record NodeOptions(string Name)
{
    public const int DefaultClusterPort = 4053;

    /// <summary>
    /// A core gateway: the core gateways' cluster addresses (seeds; every core gateway gets the same list).
    /// An edge: the core gateways' link addresses its control channel starts from.
    /// </summary>
    public IReadOnlyList<HostPort> Join { get; init; } = [];
    /// <summary>An edge: SRV names (--join dns:NAME) whose records are core gateways' link addresses, looked up before every dial.</summary>
    public IReadOnlyList<string> JoinDns { get; init; } = [];
    /// <summary>The DNS server to look <see cref="JoinDns"/> up on (--dns-resolver); null: the system's resolvers.</summary>
    public HostPort? DnsResolver { get; init; }
    /// <summary>Serve the mesh's names over DNS here (--dns), UDP and TCP.</summary>
    public HostPort? Dns { get; init; }
    public int? ClusterPort { get; init; }
    /// <summary>The link ports this gateway binds (core gateways); the first one's host is also the cluster's bind address.</summary>
    public IReadOnlyList<HostPort> Listen { get; init; } = [];
    /// <summary>The host other core gateways dial for the cluster (1:1 NAT, a load balancer); default: the first --listen host.</summary>
    public string? Advertise { get; init; }
    public string? ConfigPath { get; init; }
    public string? Redis { get; init; }
    /// <summary>A file whose first line is the Redis password (else MESH_REDIS_PASSWORD): never in argv.</summary>
    public string? RedisPasswordFile { get; init; }
    public HostPort? Api { get; init; }
    public string? Cert { get; init; }
    public string? Key { get; init; }
    public string? Ca { get; init; }
    public string StateDir { get; init; } = "";

    /// <summary>--log-format json: every line on stdout is a JSON object (docs/metrics.md, Logs).</summary>
    public bool JsonLogs { get; init; }

    /// <summary>--log-level debug: Akka's internals and Mesh's debug lines too (default: Mesh from INFO, Akka from WARNING).</summary>
    public bool DebugLogs { get; init; }

    /// <summary>Where to serve /metrics alone (for gateways without --api, e.g. edges).</summary>
    public HostPort? Metrics { get; init; }

    /// <summary>A file holding the API's admin token (MESH_API_TOKEN otherwise).</summary>
    public string? ApiTokenFile { get; init; }
    /// <summary>A file holding the API's read token (MESH_API_READ_TOKEN otherwise).</summary>
    public string? ApiReadTokenFile { get; init; }
    /// <summary>Reads need no token (e.g. an API on loopback only, behind a proxy that authenticates).</summary>
    public bool ApiPublicReads { get; init; }
    /// <summary>HTTPS for the API: a PEM certificate and key.</summary>
    public string? ApiCert { get; init; }
    public string? ApiKey { get; init; }

    /// <summary>--edge: with --listen, an edge gateway that accepts links (not a cluster member).</summary>
    public bool Edge { get; init; }

    /// <summary>A gateway with a link address others can dial is a core gateway (a cluster member), unless --edge says it is an edge.</summary>
    public bool IsCore => Listen.Count > 0 && !Edge;

    /// <summary>It binds link ports (--listen): a core gateway, or an edge that accepts links.</summary>
    public bool AcceptsLinks => Listen.Count > 0;

    public bool HostsDirector => ConfigPath is not null;

    public int EffectiveClusterPort => ClusterPort ?? DefaultClusterPort;

    /// <summary>The host the cluster binds: the first --listen host (a wildcard binds every address).</summary>
    public string BindHost => Listen[0].Host;

    /// <summary>The cluster address's host, which other core gateways dial.</summary>
    public string AdvertisedHost => Advertise ?? BindHost;

    public static bool IsWildcard(string host) => host is "0.0.0.0" or "::" || (IPAddress.TryParse(host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));

    /// <summary>Where this node keeps its copy of the director's replicated store (ADR 0012).</summary>
    public string ReplicaDir => Path.GetFullPath(Path.Combine(StateDir, "replica"));

    /// <summary>Checks that need more than one flag; each message names the flag.</summary>
    public IEnumerable<string> Problems()
    {
        if (Edge && Listen.Count == 0)
            yield return "--edge needs --listen: it makes a gateway with link ports an edge that accepts links (without --listen a gateway is an edge anyway)";
        if (IsCore && JoinDns.Count > 0)
            yield return $"--join dns:{JoinDns[0]}: a core gateway's --join lists the seeds' cluster addresses as HOST:PORT; dns:NAME is for edge gateways (SRV records of the core gateways' link addresses)";
        if (DnsResolver is not null && JoinDns.Count == 0)
            yield return "--dns-resolver needs --join dns:NAME: it is the DNS server those names are looked up on";
        foreach (var (flag, address) in new[] { ("--dns", Dns), ("--dns-resolver", DnsResolver) })
            if (address is not null && !IPAddress.TryParse(address.Host, out _))
                yield return $"{flag}: '{address.Host}' is not an IP address (give one, e.g. {flag} 127.0.0.1:{(flag == "--dns" ? 5353 : 53)})";
        if (!IsCore && Join.Count == 0 && JoinDns.Count == 0)
            yield return $"--join is required for an edge gateway ({(Edge ? "--edge" : "no --listen")}): give the core gateways' link addresses (their --listen), e.g. --join core1.example:7443";
        if (!IsCore && ConfigPath is not null)
            yield return Edge ? "--config cannot go with --edge: only core gateways (cluster members) can host the director"
                : "--config needs --listen: only core gateways (cluster members) can host the director";
        if (Redis is not null && ConfigPath is null)
            yield return "--redis needs --config: only a node that may host the director keeps the director's state";
        if (RedisPasswordFile is not null && Redis is null)
            yield return "--redis-password-file needs --redis";
        if (Api is not null && !IsCore)
            yield return Edge ? "--api cannot go with --edge: core gateways serve the API (they are cluster members and reach the director)"
                : "--api needs --listen: core gateways serve the API (they are cluster members and reach the director)";
        if (IsCore && IsWildcard(BindHost) && Advertise is null)
            yield return $"--listen {Listen[0]} binds every address: add --advertise HOST, the address other core gateways dial";
        if (Advertise is not null && !AcceptsLinks)
            yield return "--advertise needs --listen: only gateways with link ports are dialed";
        if (Advertise is not null && !HostPort.TryParse($"{(Advertise.Contains(':') ? $"[{Advertise}]" : Advertise)}:1", out _, out _))
            yield return $"--advertise: '{Advertise}' is neither an IP address nor a host name (give the host alone: the ports are --listen's and --cluster-port's)";
        if ((ApiCert is null) != (ApiKey is null))
            yield return "--api-cert and --api-key go together (the API's HTTPS certificate and its key)";
        if (ApiCert is not null && Api is null)
            yield return "--api-cert needs --api";
        foreach (var (flag, file) in new[] { ("--api-token-file", ApiTokenFile), ("--api-read-token-file", ApiReadTokenFile), ("--redis-password-file", RedisPasswordFile), ("--api-cert", ApiCert), ("--api-key", ApiKey) })
            if (file is not null && !File.Exists(file)) yield return $"{flag}: file '{file}' does not exist";
        if (Cert is null || Key is null || Ca is null)
            yield return "--cert, --key and --ca are required (every link is mutual TLS): make them with "
                         + $"'mesh ca init --out ca' and 'mesh cert issue {Name}{(IsCore ? " --role core" : "")} --ca ca --out certs'";
        foreach (var (flag, file) in new[] { ("--cert", Cert), ("--key", Key), ("--ca", Ca) })
            if (file is not null && !File.Exists(file)) yield return $"{flag}: file '{file}' does not exist";
    }

    /// <summary>Warnings for flags that still work but mean less than they used to.</summary>
    public IEnumerable<string> Deprecations()
    {
        if (!IsCore && ClusterPort is not null)
            yield return "--cluster-port is ignored on an edge gateway: edges are not cluster members (they reach the director over their links)";
    }
}
