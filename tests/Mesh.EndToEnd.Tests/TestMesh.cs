using Mesh.Tests.Shared;
namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A mesh of real processes on loopback, built as an operator would: certificates from `mesh`, then
/// core1 and core2 (both may host the director), edge1 and edge2 (no --listen: they only dial out).
/// Entries: core1 publishes echo (owned by edge1) and down (owned by core2, nothing listening);
/// edge1 publishes echo2 (the same echo service, owned by core2) and echo3 (owned by edge2: two edges
/// meet through a core relay).
/// </summary>
public sealed class TestMesh : IAsyncDisposable
{
    public static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-e2e-").FullName;
    private readonly List<NodeProcess> _nodes = [];

    public TestMesh() => Certificates = new TestCertificates(Path.Combine(_dir, "pki"));

    public TestCertificates Certificates { get; }
    public NodeProcess Core1 { get; private set; } = null!;
    public NodeProcess Core2 { get; private set; } = null!;
    public NodeProcess Edge1 { get; private set; } = null!;
    public NodeProcess Edge2 { get; private set; } = null!;
    /// <summary>The core gateways' --join value: their cluster addresses.</summary>
    public string Join { get; private set; } = "";
    /// <summary>An edge's --join value: the core gateways' link addresses.</summary>
    public string EdgeJoin => $"127.0.0.1:{Link1},127.0.0.1:{Link2}";
    public string Dir => _dir;
    public string ConfigPath => Path.Combine(_dir, "mesh.toml");
    public int Link1 { get; } = FreePorts.Next();
    public int Link2 { get; } = FreePorts.Next();
    /// <summary>core1's entry for echo, which edge1 owns (core -> edge through the edge's pool).</summary>
    public int EchoEntry { get; } = FreePorts.Next();
    /// <summary>core1's entry for a service whose target has nothing listening.</summary>
    public int DownEntry { get; } = FreePorts.Next();
    /// <summary>edge1's entry for echo2, which core2 owns (edge -> core).</summary>
    public int Echo2Entry { get; } = FreePorts.Next();
    /// <summary>edge1's entry for echo3, which edge2 owns (edge -> core relay -> edge).</summary>
    public int Echo3Entry { get; } = FreePorts.Next();

    /// <summary>core1's REST API (with <c>api: true</c>), and the token its writes need.</summary>
    public int ApiPort { get; } = FreePorts.Next();
    /// <summary>core1's admin token (reads and writes) and read token (reads only).</summary>
    public const string ApiToken = "s3cret-for-tests", ApiReadToken = "read-only-for-tests";

    /// <summary>A client of a gateway's API that sends <paramref name="token"/> (default: the read token) with every request.</summary>
    public static HttpClient Http(string baseAddress, string? token = ApiReadToken)
    {
        var http = new HttpClient { BaseAddress = new Uri(baseAddress) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <param name="redis">a StackExchange.Redis configuration: the director keeps its state there (--redis)</param>
    /// <param name="api">core1 serves the REST API on <see cref="ApiPort"/> (--api, --api-token-file)</param>
    /// <param name="moreServices">[services.NAME] tables a test adds to the mesh config</param>
    /// <param name="moreEntries">[[entries]] a test adds (kept after the others: TOML needs them together)</param>
    /// <summary>Each gateway's /metrics port (--metrics), by name: tests wait for the gateways' state there.</summary>
    public Dictionary<string, int> MetricsPorts { get; } = new[] { "core1", "core2", "edge1", "edge2" }.ToDictionary(n => n, _ => FreePorts.Next());

    /// <param name="linkMode">[mesh] link_mode: "pool" (a connection per flow) or "mux" (streams of a few connections)</param>
    public async Task StartAsync(int echoPort, int downPort, string? redis = null, bool api = false, string moreServices = "", string moreEntries = "",
        string linkMode = "pool")
    {
        var config = ConfigPath;
        await File.WriteAllTextAsync(config, $$"""
            [mesh]
            name = "e2e"
            pool_size = 4
            link_mode = "{{linkMode}}"
            [gateways.core1]
            links = ["127.0.0.1:{{Link1}}"]
            [gateways.core2]
            links = ["127.0.0.1:{{Link2}}"]
            [gateways.edge1]
            [gateways.edge2]
            [services.echo]
            gateway = "edge1"
            target = "127.0.0.1:{{echoPort}}"
            [services.echo2]
            gateway = "core2"
            target = "127.0.0.1:{{echoPort}}"
            [services.echo3]
            gateway = "edge2"
            target = "127.0.0.1:{{echoPort}}"
            [services.down]
            gateway = "core2"
            target = "127.0.0.1:{{downPort}}"
            {{moreServices}}
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{EchoEntry}}"
            service = "echo"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{DownEntry}}"
            service = "down"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{FreePorts.Next()}}"
            service = "echo2"
            [[entries]]
            gateway = "edge1"
            listen = "127.0.0.1:{{Echo2Entry}}"
            service = "echo2"
            [[entries]]
            gateway = "edge1"
            listen = "127.0.0.1:{{Echo3Entry}}"
            service = "echo3"
            {{moreEntries}}
            """);
        var (p1, p2) = (FreePorts.Next(), FreePorts.Next());
        var join = Join = $"127.0.0.1:{p1},127.0.0.1:{p2}";
        string[] store = redis is null ? [] : ["--redis", redis];
        var tokenFile = Path.Combine(_dir, "api.token");
        await File.WriteAllTextAsync(tokenFile, ApiToken + "\n");
        var readTokenFile = Path.Combine(_dir, "api-read.token");
        await File.WriteAllTextAsync(readTokenFile, ApiReadToken + "\n");
        string[] rest = api ? ["--api", $"127.0.0.1:{ApiPort}", "--api-token-file", tokenFile, "--api-read-token-file", readTokenFile] : [];
        Core1 = await Start("core1", ["--listen", $"127.0.0.1:{Link1}", "--cluster-port", $"{p1}", "--join", join, "--config", config, .. store, .. rest]);
        Core2 = await Start("core2", ["--listen", $"127.0.0.1:{Link2}", "--cluster-port", $"{p2}", "--join", join, "--config", config, .. store]);
        Edge1 = await Start("edge1", "--join", EdgeJoin);
        Edge2 = await Start("edge2", "--join", EdgeJoin);
    }

    /// <summary>Waits until flows can start: the entries listen, the links are warm, the owners have their route tables.</summary>
    public Task ReadyForFlowsAsync() => AllAsync(
        Core1.WaitForEntryListeningAsync($"127.0.0.1:{EchoEntry}", "echo", Ready),
        Core1.WaitForLinkUpAsync("core2", Ready),
        Core2.WaitForOwnedServiceAsync("echo2", Ready),
        Edge1.WaitForLinkUpAsync("core1", Ready),
        Edge1.WaitForLinkUpAsync("core2", Ready),
        Edge1.WaitForEntryListeningAsync($"127.0.0.1:{Echo2Entry}", "echo2", Ready),
        Edge2.WaitForLinkUpAsync("core1", Ready),
        Edge2.WaitForOwnedServiceAsync("echo3", Ready));

    /// <summary>
    /// Waits for all of <paramref name="waits"/>; when one times out, the failure shows the last lines of
    /// every gateway (a node that cannot join is often explained by another node's log).
    /// </summary>
    public async Task AllAsync(params Task[] waits)
    {
        try { await Task.WhenAll(waits); }
        catch (TimeoutException e)
        {
            var logs = _nodes.Select(n => $"--- {n.Name}, last lines:\n{string.Join("\n", n.Output.Split('\n').TakeLast(25))}");
            throw new TimeoutException($"{e.Message.Split('\n')[0]}\n{string.Join("\n", logs)}", e);
        }
    }

    /// <summary>Every warning or error the gateways logged, for assertion messages.</summary>
    public string Warnings() => string.Join("\n", _nodes.SelectMany(n => n.Output.Split('\n')
        .Where(l => l.Contains("WARNING") || l.Contains("ERROR")).Select(l => $"{n.Name}: {l}")));

    private readonly Dictionary<string, string[]> _args = [];

    private async Task<NodeProcess> Start(string name, params string[] args)
    {
        if (MetricsPorts.TryGetValue(name, out var metricsPort)) args = [.. args, "--metrics", $"127.0.0.1:{metricsPort}"];
        _args[name] = args;
        var node = NodeProcess.Start(name, _dir, ["--name", name, .. args, .. await Certificates.FlagsFor(name)]);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Kills a gateway outright (no shutdown: as a crash or a power cut would).</summary>
    public async Task KillAsync(NodeProcess node) => await node.DisposeAsync();

    /// <summary>Starts a gateway again with its original command line (after <see cref="KillAsync"/>).</summary>
    public async Task<NodeProcess> RestartAsync(string name)
    {
        var node = await Start(name, _args[name]);
        switch (name)
        {
            case "core1": Core1 = node; break;
            case "core2": Core2 = node; break;
            case "edge1": Edge1 = node; break;
            case "edge2": Edge2 = node; break;
        }
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
