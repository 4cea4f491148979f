using System.Collections.Immutable;

namespace Mesh.Config;

public enum GatewayKind { Core, Edge }

/// <summary>A gateway named in the config. With link addresses others can dial it (core); without, it is an edge.</summary>
public sealed record GatewayConfig(string Name, ImmutableArray<HostPort> Links)
{
    public GatewayKind Kind => Links.IsEmpty ? GatewayKind.Edge : GatewayKind.Core;
}

public enum CheckKind { None, Tcp, Redis, Http, Mysql }

/// <summary>How the owning gateway checks a service. Rise/Fall: successes to be up, failures to be down.</summary>
/// <param name="PasswordEnv">redis: the environment variable, on the owning gateway, that holds the password for AUTH</param>
public sealed record HealthCheck(CheckKind Kind, TimeSpan Interval, TimeSpan Timeout, int Rise, int Fall, string? Path, string? PasswordEnv = null)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);
    public const int DefaultRise = 2, DefaultFall = 3;
    public static readonly HealthCheck DefaultTcp = new(CheckKind.Tcp, DefaultInterval, DefaultTimeout, DefaultRise, DefaultFall, null);
}

/// <summary>A TCP service at one site, owned (dialed) by exactly one gateway.</summary>
public sealed record ServiceConfig(string Name, string Gateway, HostPort Target, HealthCheck Check);

/// <summary>Where a service is published: a listen address on one gateway.</summary>
public sealed record EntryConfig(string Gateway, HostPort Listen, string Service);

/// <summary>Mesh-wide data-plane settings, from [mesh].</summary>
/// <param name="PoolSize">Idle TLS connections each gateway keeps warm to every peer it can dial.</param>
/// <param name="FlowIdleTimeout">A flow with no bytes either way for this long is closed.</param>
/// <param name="DialTimeout">How long the owning gateway waits for its service to accept a connection.</param>
public sealed record MeshSettings(int PoolSize, TimeSpan FlowIdleTimeout, TimeSpan DialTimeout)
{
    public static readonly MeshSettings Default = new(8, TimeSpan.FromHours(1), TimeSpan.FromSeconds(5));
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
}
