using System.Net;
using System.Net.Sockets;

namespace Mesh.EndToEnd.Tests.Sites;

/// <summary>
/// The sites topology (sites.sh) with a mesh of real processes in it: core1 and core2 on the public
/// segment (both may host the director; core1, the oldest, does), site-a and site-b behind their NAT
/// routers, and a `mesh echo` service at each site and at core2's. Entries:
/// core1 and core2 each publish echo-a (core -> edge); site-a publishes echo-b (edge -> core -> edge)
/// and echo-core (edge -> core); site-b publishes echo-a.
/// </summary>
public sealed class SitesMesh : IAsyncDisposable
{
    public static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    public const int LinkPort = 7443, ClusterPort = 4053, EchoPort = 7000, EntryPort = 8001;

    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-sites-").FullName;
    private readonly Dictionary<string, (string Netns, string[] Args)> _launch = [];
    private readonly Dictionary<string, NodeProcess> _running = [];
    private readonly List<NodeProcess> _all = [];
    private readonly Dictionary<string, NodeProcess> _echoes = [];
    private bool _up;

    public SitesMesh() => Certificates = new TestCertificates(Path.Combine(_dir, "pki"));

    /// <summary>A prefix unique to this run, so that two runs on one machine do not collide.</summary>
    public string Prefix { get; } = $"m{Environment.ProcessId % 100000}";
    public TestCertificates Certificates { get; }

    public static readonly IPEndPoint Core1Entry = new(IPAddress.Parse("10.99.0.11"), EntryPort);
    public static readonly IPEndPoint Core2Entry = new(IPAddress.Parse("10.99.0.12"), EntryPort);
    /// <summary>site-a's entries: echo-b (relayed), then echo-core (core2's service).</summary>
    public static readonly IPEndPoint SiteAToB = new(IPAddress.Loopback, EntryPort), SiteAToCore = new(IPAddress.Loopback, EntryPort + 1);
    public static readonly IPEndPoint SiteBToA = new(IPAddress.Loopback, EntryPort);

    public string Ns(string host) => $"{Prefix}-{host}";
    public NodeProcess this[string gateway] => _running[gateway];

    public async Task StartAsync()
    {
        NetNs.Sites("down", Prefix);   // leftovers of a run that was killed
        NetNs.Sites("up", Prefix);
        _up = true;
        var config = Path.Combine(_dir, "mesh.toml");
        await File.WriteAllTextAsync(config, $$"""
            [mesh]
            name = "sites"
            pool_size = 4
            [gateways.core1]
            links = ["10.99.0.11:{{LinkPort}}"]
            [gateways.core2]
            links = ["10.99.0.12:{{LinkPort}}"]
            [gateways.site-a]
            [gateways.site-b]
            [services.echo-a]
            gateway = "site-a"
            target = "127.0.0.1:{{EchoPort}}"
            check = { kind = "tcp", interval = "1s", rise = 2, fall = 2 }
            [services.echo-b]
            gateway = "site-b"
            target = "127.0.0.1:{{EchoPort}}"
            [services.echo-core]
            gateway = "core2"
            target = "127.0.0.1:{{EchoPort}}"
            [[entries]]
            gateway = "core1"
            listen = "10.99.0.11:{{EntryPort}}"
            service = "echo-a"
            [[entries]]
            gateway = "core2"
            listen = "10.99.0.12:{{EntryPort}}"
            service = "echo-a"
            [[entries]]
            gateway = "site-a"
            listen = "127.0.0.1:{{EntryPort}}"
            service = "echo-b"
            [[entries]]
            gateway = "site-a"
            listen = "127.0.0.1:{{EntryPort + 1}}"
            service = "echo-core"
            [[entries]]
            gateway = "site-b"
            listen = "127.0.0.1:{{EntryPort}}"
            service = "echo-a"
            """);
        foreach (var host in new[] { "site-a", "site-b", "core2" })
            await StartEchoAsync(host);

        var join = $"10.99.0.11:{ClusterPort},10.99.0.12:{ClusterPort}";
        Define("core1", "core1", "--listen", $"10.99.0.11:{LinkPort}", "--join", join, "--config", config);
        Define("core2", "core2", "--listen", $"10.99.0.12:{LinkPort}", "--join", join, "--config", config);
        var links = $"10.99.0.11:{LinkPort},10.99.0.12:{LinkPort}";   // an edge joins through the core gateways' link ports
        Define("site-a", "site-a", "--join", links);
        Define("site-b", "site-b", "--join", links);
        foreach (var gateway in _launch.Keys) await StartAsync(gateway);
    }

    /// <summary>Starts (or starts again) the `mesh echo` service at <paramref name="host"/>'s site.</summary>
    public async Task StartEchoAsync(string host)
    {
        var echo = NodeProcess.StartIn(Ns(host), $"echo@{host}", _dir, ["echo", "--listen", $"127.0.0.1:{EchoPort}"], NodeProcess.CliDll);
        _all.Add(echo);
        _echoes[host] = echo;
        await echo.WaitForLineAsync(l => l.Contains("echo service listening"), Ready);
    }

    /// <summary>Kills the echo service at <paramref name="host"/>'s site, as a crashed service.</summary>
    public async Task StopEchoAsync(string host) => await _echoes[host].DisposeAsync();

    private void Define(string gateway, string host, params string[] args) =>
        _launch[gateway] = (Ns(host), ["--name", gateway, .. args]);

    /// <summary>Starts (or starts again) a gateway process with its original command line.</summary>
    public async Task<NodeProcess> StartAsync(string gateway)
    {
        var (netns, args) = _launch[gateway];
        var node = NodeProcess.StartIn(netns, gateway, _dir, [.. args, .. await Certificates.FlagsFor(gateway)]);
        _all.Add(node);
        return _running[gateway] = node;
    }

    /// <summary>Kills a gateway process outright (no shutdown: as a crash or a power cut would).</summary>
    public async Task KillAsync(string gateway) => await _running[gateway].DisposeAsync();

    /// <summary>Waits until every gateway has its table and links: all five entries carry flows.</summary>
    public async Task ReadyForFlowsAsync()
    {
        await Task.WhenAll(
            this["site-a"].WaitForLineAsync(l => l.Contains("link to core1 up"), Ready),
            this["site-a"].WaitForLineAsync(l => l.Contains("link to core2 up"), Ready),
            this["site-b"].WaitForLineAsync(l => l.Contains("link to core1 up"), Ready),
            this["site-b"].WaitForLineAsync(l => l.Contains("link to core2 up"), Ready));
        await HealthyAsync();
    }

    /// <summary>Each entry, by the gateway (and so the namespace) whose apps use it.</summary>
    public static IReadOnlyList<(string Gateway, IPEndPoint Entry)> Entries { get; } =
        [("core1", Core1Entry), ("core2", Core2Entry), ("site-a", SiteAToB), ("site-a", SiteAToCore), ("site-b", SiteBToA)];

    /// <summary>A client socket at <paramref name="gateway"/>'s site, connected to <paramref name="entry"/>.</summary>
    public Task<Socket> ConnectAsync(string gateway, IPEndPoint entry, CancellationToken ct = default) =>
        NetNs.ConnectAsync(Ns(gateway), entry, ct);

    /// <summary>
    /// Tries a small flow through <paramref name="entry"/> every quarter second until one comes back whole,
    /// and returns how long that took; fails with the gateways' warnings after <paramref name="limit"/>.
    /// </summary>
    public async Task<TimeSpan> FirstWorkingFlowAsync(string gateway, IPEndPoint entry, TimeSpan limit) =>
        await ClientFlows.FirstEchoAsync(() => ConnectAsync(gateway, entry), limit)
        ?? throw new TimeoutException($"no flow through {entry} at {gateway}'s site came back within {limit.TotalSeconds:0}s; warnings:\n{Warnings()}");

    public string Warnings() => string.Join("\n", _all.SelectMany(n => n.Output.Split('\n')
        .Where(l => l.Contains("WARNING") || l.Contains("ERROR")).TakeLast(40).Select(l => $"{n.Name}: {l}")));

    public void Sites(string action, string site, params string[] more) => NetNs.Sites([action, Prefix, site, .. more]);

    /// <summary>Waits for a line from whichever core gateway hosts the director, printed after <paramref name="marks"/>.</summary>
    public async Task<string> DirectorLineAsync(Func<string, bool> match, TimeSpan timeout, (int Core1, int Core2) marks) =>
        await await Task.WhenAny(
            this["core1"].WaitForLineAsync(match, timeout, marks.Core1),
            this["core2"].WaitForLineAsync(match, timeout, marks.Core2));

    public (int Core1, int Core2) CoreMarks() => (this["core1"].Mark(), this["core2"].Mark());

    /// <summary>
    /// Every entry carries a flow and every site's links to both core gateways are up: the state each test
    /// starts from and leaves behind. Flows alone are not enough: they detour around a link still down
    /// after the previous test's outage, and a test that then breaks that link waits for news the
    /// director already logged.
    /// </summary>
    public async Task HealthyAsync()
    {
        foreach (var (gateway, entry) in Entries) await FirstWorkingFlowAsync(gateway, entry, Ready);
        await LinksUpAsync();
    }

    private async Task LinksUpAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        while (true)
        {
            var down = (from site in new[] { "site-a", "site-b" }
                        from core in new[] { "core1", "core2" }
                        where !LastLinkLine(site, core).Contains($"link to {core} up")
                        select $"{site} -> {core}").ToList();
            if (down.Count == 0) return;
            if (clock.Elapsed > Ready)
                throw new TimeoutException($"links still down after {Ready.TotalSeconds:0}s: {string.Join(", ", down)}; warnings:\n{Warnings()}");
            await poll.WaitForNextTickAsync();
        }
    }

    /// <summary>The last line in which <paramref name="site"/>'s link actor for <paramref name="core"/> said it was up or lost.</summary>
    private string LastLinkLine(string site, string core) =>
        this[site].Output.Split('\n').LastOrDefault(l => l.Contains($"/link-{core}]") && (l.Contains($"link to {core} up") || l.Contains($"link to {core} lost"))) ?? "";

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _all) await n.DisposeAsync();
        if (_up) NetNs.Sites("down", Prefix);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
