using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// One real core gateway alone: it hosts the director (config from the test), serves the API with the test
/// tokens, and owns whatever services the test declares. For tests of one gateway's own edges: entries,
/// limits, the API, its ports.
/// </summary>
public sealed class SoloCore : IAsyncDisposable
{
    private readonly List<NodeProcess> _nodes = [];
    public string Dir { get; } = Directory.CreateTempSubdirectory("mesh-solo-").FullName;
    /// <summary>The config file's path below <see cref="Dir"/> (its folders are made at start).</summary>
    public string ConfigName { get; init; } = "mesh.toml";
    public string ConfigPath => Path.Combine(Dir, ConfigName);
    public int Link { get; } = FreePorts.Next();
    public int ClusterPort { get; } = FreePorts.Next();
    public int ApiPort { get; } = FreePorts.Next();
    /// <summary>The address the API binds (clients use loopback, which a wildcard includes).</summary>
    public string ApiHost { get; init; } = "127.0.0.1";
    /// <summary>The address the link port binds (--listen); with a wildcard, give --advertise.</summary>
    public string ListenHost { get; init; } = "127.0.0.1";
    /// <summary>Starts the gateway with this RLIMIT_NOFILE (soft and hard); null: the test's own.</summary>
    public int? FileLimit { get; init; }
    public TestCertificates Certificates { get; }
    public NodeProcess Node { get; private set; } = null!;
    public string Api => $"http://127.0.0.1:{ApiPort}";

    public SoloCore() => Certificates = new TestCertificates(Path.Combine(Dir, "pki"));

    /// <summary>The config: the mesh, core1 with its link, then <paramref name="body"/> ([services.*] then [[entries]]).</summary>
    public string Config(string body, string mesh = "") => $"""
        [mesh]
        name = "solo"
        {mesh}
        [gateways.core1]
        links = ["127.0.0.1:{Link}"]
        {body}
        """;

    /// <summary>Starts core1 with <paramref name="config"/> and the API; <paramref name="more"/> flags are added.</summary>
    public async Task<NodeProcess> StartAsync(string config, params string[] more)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ConfigPath)!);
        await File.WriteAllTextAsync(ConfigPath, config);
        var tokens = Path.Combine(Dir, "admin.token");
        await File.WriteAllTextAsync(tokens, TestMesh.ApiToken + "\n");
        var readToken = Path.Combine(Dir, "read.token");
        await File.WriteAllTextAsync(readToken, TestMesh.ApiReadToken + "\n");
        Node = Start(["--name", "core1", "--listen", $"{ListenHost}:{Link}", "--cluster-port", $"{ClusterPort}", "--config", ConfigPath,
            "--api", $"{ApiHost}:{ApiPort}", "--api-token-file", tokens, "--api-read-token-file", readToken, "--state-dir", Path.Combine(Dir, "state"),
            .. more, .. await Certificates.FlagsFor("core1")]);
        // the route table a gateway holds has no surface (API, metric) yet: its line is the only sign
        await Node.WaitForLineAsync(l => l.Contains("gateway core1: route table"), TestMesh.Ready);
        return Node;
    }

    public NodeProcess Start(string[] args)
    {
        var name = args.SkipWhile(a => a != "--name").Skip(1).FirstOrDefault() ?? "node";
        var node = FileLimit is { } limit ? NodeProcess.StartWithFileLimit(limit, name, Dir, args) : NodeProcess.Start(name, Dir, args);
        _nodes.Add(node);
        return node;
    }

    public HttpClient Http(string? token = TestMesh.ApiReadToken) => TestMesh.Http(Api, token);

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
