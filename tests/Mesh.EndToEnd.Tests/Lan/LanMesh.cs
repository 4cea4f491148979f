using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mesh.Contracts.Routing;
using Mesh.EndToEnd.Tests.Sites;

namespace Mesh.EndToEnd.Tests.Lan;

/// <summary>
/// The LAN topology (lan.sh) with a mesh of real processes in it: core1 on the public segment founds the
/// cluster alone and hosts the director and the API; lan-1 and lan-2, edges behind one NAT router, accept
/// links on their LAN addresses (--listen ADDR --edge, role = "edge"). Each edge runs a `mesh echo` service
/// (echo-1 at lan-1, echo-2 at lan-2) and an entry for the other's on 127.0.0.1:8001 in its own namespace.
/// </summary>
public sealed class LanMesh : IAsyncDisposable
{
    public static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    public const int LinkPort = 7443, ApiPort = 8080, EchoPort = 7000, EntryPort = 8001;
    public const string Core1 = "10.97.0.11", Lan1 = "10.97.1.10", Lan2 = "10.97.1.11";
    /// <summary>The entry at lan-1 for echo-2 and the one at lan-2 for echo-1, each in its own namespace.</summary>
    public static readonly IPEndPoint Entry = new(IPAddress.Loopback, EntryPort);

    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-lan-").FullName;
    /// <summary>lan.sh for this run; its prefix is apart from the sites suite's "m…" and the seed suite's "sd…".</summary>
    private readonly Topology _net = new(Path.Combine(AppContext.BaseDirectory, "Lan", "lan.sh"), "ln");
    private readonly Dictionary<string, NodeProcess> _gateways = [];
    private readonly List<NodeProcess> _all = [];

    public LanMesh() => Certificates = new TestCertificates(Path.Combine(_dir, "pki"));

    public TestCertificates Certificates { get; }
    public string Ns(string host) => _net.Ns(host);
    public NodeProcess this[string gateway] => _gateways[gateway];
    /// <summary>How long the mesh took from core1's start until every link was up and a flow went through each entry.</summary>
    public TimeSpan StartedIn { get; private set; }

    /// <summary>Bytes received and sent so far on <paramref name="host"/>'s uplink (nat: its wan).</summary>
    public (long Rx, long Tx) Bytes(string host) => _net.Bytes(host);

    /// <summary>lan-1 and lan-2 no longer reach each other on the LAN (packets vanish); both still reach core1.</summary>
    public void Block() => _net.Run("block");
    public void Unblock() => _net.Run("unblock");

    public async Task StartAsync()
    {
        _net.Up();
        var config = Path.Combine(_dir, "mesh.toml");
        await File.WriteAllTextAsync(config, $$"""
            [mesh]
            name = "lan"
            [gateways.core1]
            links = ["{{Core1}}:{{LinkPort}}"]
            [gateways.lan-1]
            role = "edge"
            links = ["{{Lan1}}:{{LinkPort}}"]
            [gateways.lan-2]
            role = "edge"
            links = ["{{Lan2}}:{{LinkPort}}"]
            [services.echo-1]
            gateway = "lan-1"
            target = "127.0.0.1:{{EchoPort}}"
            [services.echo-2]
            gateway = "lan-2"
            target = "127.0.0.1:{{EchoPort}}"
            [[entries]]
            gateway = "lan-1"
            listen = "127.0.0.1:{{EntryPort}}"
            service = "echo-2"
            [[entries]]
            gateway = "lan-2"
            listen = "127.0.0.1:{{EntryPort}}"
            service = "echo-1"
            """);
        foreach (var host in new[] { "lan-1", "lan-2" })
        {
            var echo = NodeProcess.StartIn(Ns(host), $"echo@{host}", _dir, ["echo", "--listen", $"127.0.0.1:{EchoPort}"], NodeProcess.CliDll);
            _all.Add(echo);
            await echo.WaitForLineAsync(l => l.Contains("echo service listening"), Ready);
        }
        var readToken = Path.Combine(_dir, "api-read.token");
        await File.WriteAllTextAsync(readToken, TestMesh.ApiReadToken + "\n");
        foreach (var gateway in new[] { "core1", "lan-1", "lan-2" }) await Certificates.FlagsFor(gateway);   // issued before the clock starts
        var started = Stopwatch.StartNew();
        // one core gateway, no --join: it founds the cluster itself
        await StartGatewayAsync("core1", "--listen", $"{Core1}:{LinkPort}", "--config", config,
            "--api", $"127.0.0.1:{ApiPort}", "--api-read-token-file", readToken);
        await StartGatewayAsync("lan-1", "--listen", $"{Lan1}:{LinkPort}", "--edge", "--join", $"{Core1}:{LinkPort}");
        await StartGatewayAsync("lan-2", "--listen", $"{Lan2}:{LinkPort}", "--edge", "--join", $"{Core1}:{LinkPort}");
        await ReadyAsync();
        StartedIn = started.Elapsed;
    }

    /// <summary>Starts a gateway in its own namespace; core1 gets a core certificate, the edges edge certificates.</summary>
    private async Task StartGatewayAsync(string gateway, params string[] args)
    {
        var node = NodeProcess.StartIn(Ns(gateway), gateway, _dir, ["--name", gateway, .. args, .. await Certificates.FlagsFor(gateway)]);
        _all.Add(node);
        _gateways[gateway] = node;
    }

    /// <summary>Every link is up, the director knows both services up, and a flow goes through each entry.</summary>
    private async Task ReadyAsync()
    {
        await Task.WhenAll(
            this["lan-1"].WaitForLineAsync(l => l.Contains("link to core1 up"), Ready),
            this["lan-2"].WaitForLineAsync(l => l.Contains("link to core1 up"), Ready),
            this["lan-1"].WaitForLineAsync(l => l.Contains("link to lan-2 up"), Ready),
            this["lan-2"].WaitForLineAsync(l => l.Contains("link to lan-1 up"), Ready));
        using var api = Api();
        var health = await api.PollJsonAsync("/v1/health", h => h.ValueKind == JsonValueKind.Object && h.GetProperty("up").GetInt32() == 2, Ready);
        if (health.ValueKind != JsonValueKind.Object || health.GetProperty("up").GetInt32() != 2)
            throw new TimeoutException($"the director does not know both services up after {Ready.TotalSeconds:0}s: {health}\n{Warnings()}");
        await Task.WhenAll(FirstWorkingFlowAsync("lan-1", Ready), FirstWorkingFlowAsync("lan-2", Ready));
    }

    /// <summary>core1's REST API (127.0.0.1:8080 in core1's namespace), with the read token.</summary>
    public HttpClient Api() => NetNs.Http(Ns("core1"), ApiPort, TestMesh.ApiReadToken);

    /// <summary>The real `mesh` admin command run on core1's host, against its API.</summary>
    public Task<MeshCli.Run> CliAsync(params string[] args) => MeshCli.RunAsync([.. args, "--api", $"http://127.0.0.1:{ApiPort}"], netns: Ns("core1"));

    /// <summary>A client socket at <paramref name="gateway"/>'s host, connected to its entry for the other edge's echo.</summary>
    public Task<Socket> ConnectAsync(string gateway, CancellationToken ct = default) => NetNs.ConnectAsync(Ns(gateway), Entry, ct);

    /// <summary>How long until a small flow through <paramref name="gateway"/>'s entry first comes back whole; fails with the warnings after <paramref name="limit"/>.</summary>
    public async Task<TimeSpan> FirstWorkingFlowAsync(string gateway, TimeSpan limit) =>
        await ClientFlows.FirstEchoAsync(() => ConnectAsync(gateway), limit)
        ?? throw new TimeoutException($"no flow through {gateway}'s entry {Entry} came back within {limit.TotalSeconds:0}s; warnings:\n{Warnings()}");

    /// <summary>The next hop <paramref name="table"/> (a /v1/routes answer) gives towards <paramref name="destination"/>: via, cost.</summary>
    public static (string? Via, double Cost) Hop(JsonElement table, string destination) =>
        table.ValueKind != JsonValueKind.Object ? (null, 0)
        : table.GetProperty("nextHops").EnumerateArray().Where(h => h.GetProperty("destination").GetString() == destination)
            .Select(h => (h.GetProperty("via").GetString(), h.GetProperty("cost").GetDouble())).FirstOrDefault();

    /// <summary>
    /// Waits until lan-1 runs <paramref name="table"/> (the director's table for it) or a later one, and, when
    /// that table sends flows to lan-2 directly, until lan-1's own link to lan-2 is up: from then on lan-1's
    /// flows to lan-2 take the path the table gives.
    /// </summary>
    public async Task RunsAsync(JsonElement table, TimeSpan within)
    {
        var version = table.GetProperty("version").GetInt64();
        var direct = Hop(table, "lan-2").Via == "lan-2";
        var clock = Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!(Applied("lan-1") >= version && (!direct || LastLinkLine("lan-1", "lan-2").Contains("link to lan-2 up"))))
        {
            if (clock.Elapsed > within)
                throw new TimeoutException($"lan-1 does not run route table {TableVersion.Text(version)} (it runs {TableVersion.Text(Applied("lan-1"))}) "
                                           + $"with its link to lan-2 {(direct ? "up" : "in any state")} after {within.TotalSeconds:0}s; "
                                           + $"its last link line: '{LastLinkLine("lan-1", "lan-2")}'; warnings:\n{Warnings()}");
            await poll.WaitForNextTickAsync();
        }
    }

    /// <summary>The latest route table version <paramref name="gateway"/> said it applied ("gateway lan-1: route table v1.4: …").</summary>
    private long Applied(string gateway) => this[gateway].Output.Split('\n')
        .Select(l => Regex.Match(l, $@"gateway {gateway}: route table v(\d+)(?:\.(\d+))?:"))
        .Where(m => m.Success)
        .Select(m => TableVersion.Of(long.Parse(m.Groups[1].Value), m.Groups[2].Success ? long.Parse(m.Groups[2].Value) : 0))
        .DefaultIfEmpty(0).Max();

    /// <summary>The last line in which <paramref name="gateway"/>'s link actor for <paramref name="peer"/> said it was up or lost.</summary>
    public string LastLinkLine(string gateway, string peer) =>
        this[gateway].Output.Split('\n').LastOrDefault(l => l.Contains($"/link-{peer}]") && (l.Contains($"link to {peer} up") || l.Contains($"link to {peer} lost"))) ?? "";

    public string Warnings() => string.Join("\n", _all.SelectMany(n => n.Output.Split('\n')
        .Where(l => l.Contains("WARNING") || l.Contains("ERROR")).TakeLast(40).Select(l => $"{n.Name}: {l}")));

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _all) await n.DisposeAsync();
        _net.Down();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A test of the Lan suite: skipped, with the reason, where network namespaces cannot be made.</summary>
public sealed class LanFactAttribute : FactAttribute
{
    public LanFactAttribute()
    {
        if (NetNs.WhyUnavailable is { } why) Skip = why;
    }
}
