using System.Collections.Immutable;

namespace Mesh.Config;

public enum GatewayKind { Core, Edge }

/// <summary>
/// A gateway named in the config. With link addresses others can dial it. A gateway with links is a core
/// gateway (a cluster member) unless its role says edge: an edge that accepts links (one on a LAN or private
/// WAN with other sites) stays outside the cluster, and other edges link with it directly.
/// </summary>
/// <param name="Role">the role the config gives; null: core with links, edge without</param>
public sealed record GatewayConfig(string Name, ImmutableArray<HostPort> Links, GatewayKind? Role = null)
{
    public GatewayKind Kind => Role ?? (Links.IsEmpty ? GatewayKind.Edge : GatewayKind.Core);

    /// <summary>Other gateways can dial it: it declares link addresses.</summary>
    public bool AcceptsLinks => !Links.IsEmpty;
}

public enum CheckKind { None, Tcp, Redis, Http, Mysql }

/// <summary>How the owning gateway checks a service. Rise/Fall: successes to be up, failures to be down.</summary>
/// <param name="PasswordEnv">redis: the environment variable, on the owning gateway, that holds the password for AUTH</param>
/// <param name="User">mysql: the password-less user the check logs in as (then quits); null: the greeting alone</param>
public sealed record HealthCheck(CheckKind Kind, TimeSpan Interval, TimeSpan Timeout, int Rise, int Fall, string? Path, string? PasswordEnv = null,
    string? User = null)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);
    public const int DefaultRise = 2, DefaultFall = 3;
    public static readonly HealthCheck DefaultTcp = new(CheckKind.Tcp, DefaultInterval, DefaultTimeout, DefaultRise, DefaultFall, null);
}

/// <summary>A TCP service at one site, owned (dialed) by exactly one gateway.</summary>
/// <param name="Allow">the gateways whose entries may open flows to it; empty: the gateways with an entry for it</param>
public sealed record ServiceConfig(string Name, string Gateway, HostPort Target, HealthCheck Check)
{
    public ImmutableArray<string> Allow { get; init; } = [];

    /// <summary><c>"pool"</c> or <c>"mux"</c> for this service's flows; null: the mesh's <c>link_mode</c>.</summary>
    public string? LinkMode { get; init; }

    public bool Equals(ServiceConfig? other) => other is not null && Name == other.Name && Gateway == other.Gateway && Target == other.Target
        && Check == other.Check && Allow.SequenceEqual(other.Allow) && LinkMode == other.LinkMode;

    public override int GetHashCode() => HashCode.Combine(Name, Gateway, Target, Check);
}

/// <summary>Where a service is published: a listen address on one gateway.</summary>
/// <param name="Allow">client networks admitted (CIDR); empty: [mesh] allow, and if that is empty too, everyone</param>
/// <param name="MaxConnections">clients served at once; more are refused at once</param>
public sealed record EntryConfig(string Gateway, HostPort Listen, string Service)
{
    public ImmutableArray<System.Net.IPNetwork> Allow { get; init; } = [];
    public int MaxConnections { get; init; } = MeshSettings.DefaultMaxConnections;

    public bool Equals(EntryConfig? other) => other is not null && Gateway == other.Gateway && Listen == other.Listen && Service == other.Service
        && MaxConnections == other.MaxConnections && Allow.SequenceEqual(other.Allow);

    public override int GetHashCode() => HashCode.Combine(Gateway, Listen, Service, MaxConnections);
}

/// <summary>Mesh-wide data-plane settings, from [mesh].</summary>
/// <param name="PoolSize">Idle TLS connections each gateway keeps warm to every peer it can dial.</param>
/// <param name="FlowIdleTimeout">A flow with no bytes either way for this long is closed.</param>
/// <param name="DialTimeout">How long the owning gateway waits for its service to accept a connection.</param>
public sealed record MeshSettings(int PoolSize, TimeSpan FlowIdleTimeout, TimeSpan DialTimeout)
{
    public const int DefaultMaxConnections = 1024;
    public static readonly MeshSettings Default = new(8, TimeSpan.FromHours(1), TimeSpan.FromSeconds(5));

    /// <summary>Fingerprints ("sha256:…", lowercase) of certificates refused everywhere, though signed by the mesh CA.</summary>
    public ImmutableArray<string> Revoked { get; init; } = [];

    /// <summary>The client networks every entry admits unless it has its own allow list; empty: everyone.</summary>
    public ImmutableArray<System.Net.IPNetwork> Allow { get; init; } = [];

    /// <summary>How flows travel between gateways: <c>"pool"</c> (a connection each) or <c>"mux"</c> (streams of a few connections).</summary>
    public string LinkMode { get; init; } = "pool";

    // records would compare the arrays by reference
    public bool Equals(MeshSettings? other) => other is not null && PoolSize == other.PoolSize && FlowIdleTimeout == other.FlowIdleTimeout
        && DialTimeout == other.DialTimeout && LinkMode == other.LinkMode && Revoked.SequenceEqual(other.Revoked) && Allow.SequenceEqual(other.Allow);

    public override int GetHashCode() => HashCode.Combine(PoolSize, FlowIdleTimeout, DialTimeout, Revoked.Length, Allow.Length);
}

/// <summary>The validated, immutable content of a mesh config file.</summary>
public sealed record RouteMap(
    string MeshName,
    MeshSettings Settings,
    ImmutableSortedDictionary<string, GatewayConfig> Gateways,
    ImmutableSortedDictionary<string, ServiceConfig> Services,
    ImmutableArray<EntryConfig> Entries,
    string SourceText,
    string ContentHash)
{
    public IEnumerable<EntryConfig> EntriesOn(string gateway) => Entries.Where(e => e.Gateway == gateway);
    public IEnumerable<ServiceConfig> ServicesOwnedBy(string gateway) => Services.Values.Where(s => s.Gateway == gateway);

    /// <summary>
    /// For each service, the gateways whose entries may reach it: its allow list, else those with an entry for it.
    /// All at once: the entries are grouped once (one scan per service cost ~2 s of the director's tables at 1,000 gateways).
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> AllowedOrigins()
    {
        // one pass over the entries (20,000 in a mesh of 1,000 gateways), not a query per service
        var withEntry = new Dictionary<string, List<string>>(Services.Count, StringComparer.Ordinal);
        foreach (var e in Entries)
        {
            if (!withEntry.TryGetValue(e.Service, out var gateways)) withEntry[e.Service] = gateways = [];
            if (!gateways.Contains(e.Gateway)) gateways.Add(e.Gateway);
        }
        var origins = new Dictionary<string, IReadOnlyList<string>>(Services.Count, StringComparer.Ordinal);
        foreach (var s in Services.Values)
        {
            var list = s.Allow.IsEmpty ? withEntry.GetValueOrDefault(s.Name)?.ToArray() ?? [] : s.Allow.ToArray();
            Array.Sort(list, StringComparer.Ordinal);
            origins[s.Name] = list;
        }
        return origins;
    }

    /// <summary>The client networks an entry admits (its own list, else the mesh's); empty: everyone.</summary>
    public ImmutableArray<System.Net.IPNetwork> AllowedClients(EntryConfig entry) => entry.Allow.IsEmpty ? Settings.Allow : entry.Allow;
}
