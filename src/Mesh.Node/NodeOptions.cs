using Mesh.Config;

namespace Mesh.Node;

/// <summary>What one Mesh.Node process was asked to be, from its command line.</summary>
public sealed record NodeOptions(
    string Name,
    IReadOnlyList<HostPort> Join,
    int? ClusterPort,
    HostPort? Listen,
    string? ConfigPath,
    string? Redis,
    HostPort? Api,
    string? Cert,
    string? Key,
    string? Ca,
    string StateDir)
{
    public const int DefaultClusterPort = 4053;

    /// <summary>--log-format json: every line on stdout is a JSON object (docs/metrics.md, Logs).</summary>
    public bool JsonLogs { get; init; }

    /// <summary>Where to serve /metrics alone (for gateways without --api, e.g. edges).</summary>
    public HostPort? Metrics { get; init; }

    /// <summary>A file holding the API's bearer token for writes (MESH_API_TOKEN otherwise).</summary>
    public string? ApiTokenFile { get; init; }

    /// <summary>The API's bearer token: the file's first line, else MESH_API_TOKEN; null means writes are off.</summary>
    public string? ApiToken() =>
        ApiTokenFile is not null ? File.ReadLines(ApiTokenFile).FirstOrDefault()?.Trim()
        : Environment.GetEnvironmentVariable("MESH_API_TOKEN") is { Length: > 0 } env ? env : null;

    /// <summary>A gateway with a link address others can dial is a core gateway (a cluster member).</summary>
    public bool IsCore => Listen is not null;

    public bool HostsDirector => ConfigPath is not null;

    /// <summary>Edges are never dialed, so by default they bind an ephemeral port.</summary>
    public int EffectiveClusterPort => ClusterPort ?? (IsCore ? DefaultClusterPort : 0);

    /// <summary>The address a core node advertises; an edge advertises a unique name instead of a private IP.</summary>
    public string AdvertisedHost => IsCore ? Listen!.Host : $"{Name}.edge.mesh";

    public string DirectorStorePath => Path.Combine(StateDir, "director.json");

    /// <summary>Checks that need more than one flag; each message names the flag.</summary>
    public IEnumerable<string> Problems()
    {
        if (!IsCore && Join.Count == 0)
            yield return "--join is required for an edge gateway (no --listen): it must know the core gateways to reach";
        if (!IsCore && ConfigPath is not null)
            yield return "--config needs --listen: only core gateways (cluster members) can host the director";
        if (Redis is not null && ConfigPath is null)
            yield return "--redis needs --config: only a node that may host the director keeps the director's state";
        if (Api is not null && !IsCore)
            yield return "--api needs --listen: core gateways serve the API (they are cluster members and reach the director)";
        if (ApiTokenFile is not null && !File.Exists(ApiTokenFile))
            yield return $"--api-token-file: file '{ApiTokenFile}' does not exist";
        if (Cert is null || Key is null || Ca is null)
            yield return "--cert, --key and --ca are required (every link is mutual TLS): make them with "
                         + $"'mesh ca init --out ca' and 'mesh cert issue {Name} --ca ca --out certs'";
        foreach (var (flag, file) in new[] { ("--cert", Cert), ("--key", Key), ("--ca", Ca) })
            if (file is not null && !File.Exists(file)) yield return $"{flag}: file '{file}' does not exist";
    }
}
