using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Mesh.EndToEnd.Tests.Sites;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests.Seed;

/// <summary>
/// The seed mesh (samples/seed/mesh.toml) run for real in the seed topology (seed.sh): site-a, a core
/// gateway behind a 1:1 NAT, bound to 0.0.0.0 and advertising its first public address, hosts the director
/// and the API; core2, a second core gateway on the public segment; site-b and site-c, edges behind NAT.
/// The services are real: redis-server for redis1 (site-a) and redis2 (site-b), an HTTP server for app
/// (site-a), and `mesh echo` for mysql1 (on a second host of site-b's LAN; a byte-exact echo stands in for mysql).
/// </summary>
public sealed class SeedMesh : IAsyncDisposable
{
    public static readonly TimeSpan Ready = TimeSpan.FromSeconds(90);
    public const int LinkPort = 7443, ClusterPort = 4053, ApiPort = 8080;
    public const string ApiReadToken = "seed-read-token-for-tests";

    // The seed's addresses, and what stands for them here (the generated config says the same in its comments).
    public const string SiteAPublic1 = "10.98.0.26", SiteAPublic2 = "10.98.0.27";         // 212.3.247.26, 212.4.1.1
    public const string SiteAPrivate1 = "10.98.10.26", SiteAPrivate2 = "10.98.10.27";     // site-a's host, behind the 1:1 NAT
    public const string SiteBLan = "10.98.2.10", SiteBDb = "10.98.2.11";                 // 192.168.1.10, 192.168.1.11
    public const string SiteCLan = "10.98.3.10";                                         // 192.168.2.1
    public const string Core2 = "10.98.0.12";

    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-seed-").FullName;
    private readonly Dictionary<string, NodeProcess> _gateways = [];
    private readonly List<NodeProcess> _all = [];
    private readonly List<NsProcess> _programs = [];
    /// <summary>seed.sh for this run; its prefix is apart from the sites suite's "m…".</summary>
    private readonly Topology _net = new(Path.Combine(AppContext.BaseDirectory, "Seed", "seed.sh"), "sd");

    public SeedMesh() => Certificates = new TestCertificates(Path.Combine(_dir, "pki"));

    /// <summary>A prefix unique to this run, so that runs on one machine do not collide.</summary>
    public string Prefix => _net.Prefix;
    public TestCertificates Certificates { get; }
    public string ConfigPath => Path.Combine(_dir, "mesh.toml");
    public SeedApp App { get; private set; } = null!;
    /// <summary>How long the mesh took from the first gateway's start until every entry carried a flow.</summary>
    public TimeSpan StartedIn { get; private set; }

    public string Ns(string host) => _net.Ns(host);
    public NodeProcess this[string gateway] => _gateways[gateway];

    /// <summary>Bytes received and sent so far on <paramref name="host"/>'s uplink (a router's wan).</summary>
    public (long Rx, long Tx) Bytes(string host) => _net.Bytes(host);

    /// <summary>The site behind <paramref name="router"/> can no longer reach <paramref name="address"/> (a firewall upstream drops it all).</summary>
    public void Block(string router, string address) => _net.Run("block", router, address);
    public void Unblock(string router, string address) => _net.Run("unblock", router, address);

    // The entries, by the namespace whose apps use them.
    public static readonly IPEndPoint SiteCRedis1 = new(IPAddress.Parse(SiteCLan), 9000), SiteCApp = new(IPAddress.Parse(SiteCLan), 80);
    public static readonly IPEndPoint SiteCMysql1 = new(IPAddress.Parse(SiteCLan), 3306);   // added: the two-relay path
    public static readonly IPEndPoint SiteAMysql1 = new(IPAddress.Loopback, 3306);
    public static readonly IPEndPoint SiteBRedis2 = new(IPAddress.Parse(SiteBLan), 9001), SiteBMysql1 = new(IPAddress.Parse(SiteBLan), 3306);
    /// <summary>site-a's public entries as an app on the internet dials them (the 1:1 NAT maps them to site-a's private addresses).</summary>
    public static IPEndPoint Public(string address, int port) => new(IPAddress.Parse(address), port);

    /// <summary>
    /// samples/seed/mesh.toml with its addresses replaced by the topology's, core2 added, and one entry added
    /// at site-c for mysql1 (owned by site-b): site-c reaches only core2, site-b only site-a, so its flows
    /// cross two relays. Every seed address must be replaced: a sample that changes shows here.
    /// </summary>
    public static string ConfigFromSeed(string seed)
    {
        var substitutions = new (string Seed, string Here, string Why)[]
        {
            ("212.3.247.26:7443", $"{SiteAPublic1}:{LinkPort}", "site-a's first public address, as others dial it (the 1:1 NAT)"),
            ("212.4.1.1:7443", $"{SiteAPublic2}:{LinkPort}", "site-a's second public address, as others dial it"),
            ("212.3.247.26:", $"{SiteAPrivate1}:", "entries bind on site-a's host: the private address the NAT maps 212.3.247.26 to"),
            ("212.4.1.1:", $"{SiteAPrivate2}:", "the private address the NAT maps 212.4.1.1 to"),
            ("192.168.1.10:", $"{SiteBLan}:", "site-b's host on its LAN (redis2 runs there)"),
            ("192.168.1.11:", $"{SiteBDb}:", "mysql1's host on site-b's LAN"),
            ("192.168.2.1:", $"{SiteCLan}:", "site-c's host on its LAN"),
        };
        var toml = seed;
        foreach (var (from, to, _) in substitutions)
        {
            if (!toml.Contains(from)) throw new InvalidOperationException($"samples/seed/mesh.toml no longer has '{from}': update SeedMesh.ConfigFromSeed");
            toml = toml.Replace(from, to);
        }
        foreach (var left in new[] { "212.", "192.168." })
            if (toml.Contains(left)) throw new InvalidOperationException($"samples/seed/mesh.toml has an address starting '{left}' the seed suite does not replace");
        const string siteC = "[gateways.site-c]";
        if (!toml.Contains(siteC)) throw new InvalidOperationException($"samples/seed/mesh.toml no longer declares {siteC}");
        toml = toml.Replace(siteC, $"""
            {siteC}
            [gateways.core2]                        # added: a second core gateway (public), the first relay of site-c -> site-b
            links = ["{Core2}:{LinkPort}"]
            """);
        var header = "# Generated by the seed suite (tests/Mesh.EndToEnd.Tests/Seed/SeedMesh.cs) from samples/seed/mesh.toml:\n"
                     + string.Concat(substitutions.Select(s => $"#   {s.Seed,-18} -> {s.Here,-16} {s.Why}\n"))
                     + "#   added [gateways.core2] and, at the end, an entry at site-c for mysql1 (site-b's): the two-relay path\n"
                     + "#   127.0.0.1:80, :9000 and :3306 are kept: loopback at site-a's host\n";
        return header + toml.TrimEnd() + $"""


            [[entries]]                             # added: site-c -> core2 -> site-a -> site-b
            gateway = "site-c"
            listen = "{SiteCLan}:3306"
            service = "mysql1"

            """;
    }

    public async Task StartAsync()
    {
        _net.Up();   // after removing what killed seed runs left
        var seed = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "samples", "seed", "mesh.toml"));
        await File.WriteAllTextAsync(ConfigPath, ConfigFromSeed(seed));
        var (checkCode, checkOutput) = await NodeProcess.RunAsync("--config", ConfigPath, "--check");
        if (checkCode != 0) throw new InvalidOperationException($"the config made from the seed is invalid:\n{checkOutput}\n{await File.ReadAllTextAsync(ConfigPath)}");

        // the services, at their sites
        await StartRedisAsync("redis1", "site-a", "127.0.0.1", 9000);
        // redis2 serves site-b's LAN (no password: protected mode would refuse every client that is not on loopback)
        await StartRedisAsync("redis2", "site-b", SiteBLan, 9000, "--protected-mode", "no");
        var mysql1 = NodeProcess.StartIn(Ns("db-b"), "mysql1", _dir, ["echo", "--listen", $"{SiteBDb}:3306"], NodeProcess.CliDll);
        _all.Add(mysql1);
        App = new SeedApp(Ns("site-a"), new IPEndPoint(IPAddress.Loopback, 80));
        await mysql1.WaitForLineAsync(l => l.Contains("echo service listening"), Ready);

        var tokenFile = Path.Combine(_dir, "api-read.token");
        await File.WriteAllTextAsync(tokenFile, ApiReadToken + "\n");
        foreach (var (gateway, core) in new[] { ("site-a", true), ("core2", true), ("site-b", false), ("site-c", false) })
            await Certificates.FlagsFor(gateway, core);   // issued before the clock starts
        var started = Stopwatch.StartNew();
        // Every core gateway gets the same --join list: their cluster addresses as the others dial them.
        var join = $"{SiteAPublic1}:{ClusterPort},{Core2}:{ClusterPort}";
        await StartGatewayAsync("site-a", "site-a", core: true, "--listen", $"0.0.0.0:{LinkPort}", "--advertise", SiteAPublic1,
            "--cluster-port", $"{ClusterPort}", "--join", join, "--config", ConfigPath,
            "--api", $"127.0.0.1:{ApiPort}", "--api-read-token-file", tokenFile);
        // core2 reads the same config, as every core gateway that may host the director should (site-a, the
        // oldest member, hosts it).
        await StartGatewayAsync("core2", "core2", core: true, "--listen", $"{Core2}:{LinkPort}", "--cluster-port", $"{ClusterPort}", "--join", join,
            "--config", ConfigPath);
        // Every edge gets the same list too: the core gateways' link addresses (each reaches only some of them).
        var links = $"{SiteAPublic1}:{LinkPort},{SiteAPublic2}:{LinkPort},{Core2}:{LinkPort}";
        await StartGatewayAsync("site-b", "site-b", core: false, "--join", links);
        await StartGatewayAsync("site-c", "site-c", core: false, "--join", links);
        await ReadyAsync();
        StartedIn = started.Elapsed;
    }

    private async Task StartRedisAsync(string name, string host, string bind, int port, params string[] more)
    {
        var redis = new NsProcess(name, Ns(host), RedisServer.Binary!, ["--port", $"{port}", "--bind", bind, "--save", "", "--appendonly", "no", .. more]);
        _programs.Add(redis);
        await redis.WaitForLineAsync(l => l.Contains("Ready to accept connections"), Ready);
    }

    private async Task StartGatewayAsync(string gateway, string host, bool core, params string[] args)
    {
        var node = NodeProcess.StartIn(Ns(host), gateway, _dir, ["--name", gateway, .. args, .. await Certificates.FlagsFor(gateway, core)]);
        _all.Add(node);
        _gateways[gateway] = node;
    }

    /// <summary>
    /// The links that can work are up, the director knows every service up, and a flow goes through each
    /// echo entry (site-a's and site-b's local ones, and site-c's, over two relays).
    /// </summary>
    private async Task ReadyAsync()
    {
        await AllAsync(
            this["site-a"].WaitForLineAsync(l => l.Contains("director: route map"), Ready),
            this["core2"].WaitForLineAsync(l => l.Contains("link to site-a up"), Ready),
            this["site-b"].WaitForLineAsync(l => l.Contains("link to site-a up"), Ready),
            this["site-c"].WaitForLineAsync(l => l.Contains("link to core2 up"), Ready));
        using var api = Api();
        var health = await api.PollJsonAsync("/v1/health", h => h.ValueKind == JsonValueKind.Object && h.GetProperty("up").GetInt32() == 4, Ready);
        if (health.ValueKind != JsonValueKind.Object || health.GetProperty("up").GetInt32() != 4)
            throw new TimeoutException($"the director does not know all four services up after {Ready.TotalSeconds:0}s: {health}\n{Warnings()}");
        await Task.WhenAll(
            FirstWorkingFlowAsync("site-a", SiteAMysql1, Ready),
            FirstWorkingFlowAsync("site-b", SiteBMysql1, Ready),
            FirstWorkingFlowAsync("site-c", SiteCMysql1, Ready));
    }

    private async Task AllAsync(params Task[] waits)
    {
        try { await Task.WhenAll(waits); }
        catch (TimeoutException e)
        {
            var logs = _all.Select(n => $"--- {n.Name}, last lines:\n{string.Join("\n", n.Output.Split('\n').TakeLast(25))}");
            throw new TimeoutException($"{e.Message.Split('\n')[0]}\n{string.Join("\n", logs)}", e);
        }
    }

    /// <summary>A client socket in <paramref name="host"/>'s namespace, connected to <paramref name="entry"/>.</summary>
    public Task<Socket> ConnectAsync(string host, IPEndPoint entry, CancellationToken ct = default) => NetNs.ConnectAsync(Ns(host), entry, ct);

    /// <summary>
    /// site-a's REST API (127.0.0.1:8080 in site-a's namespace), as a script at site-a would call it: every
    /// connection is opened inside that namespace.
    /// </summary>
    public HttpClient Api() => NetNs.Http(Ns("site-a"), ApiPort, ApiReadToken);

    /// <summary>
    /// Tries a small echo flow through <paramref name="entry"/> every quarter second until one comes back whole,
    /// and returns how long that took; fails with the gateways' warnings after <paramref name="limit"/>.
    /// </summary>
    public async Task<TimeSpan> FirstWorkingFlowAsync(string host, IPEndPoint entry, TimeSpan limit) =>
        await ClientFlows.FirstEchoAsync(() => ConnectAsync(host, entry), limit)
        ?? throw new TimeoutException($"no flow through {entry} at {host} came back within {limit.TotalSeconds:0}s; warnings:\n{Warnings()}");

    public string Warnings() => string.Join("\n", _all.SelectMany(n => n.Output.Split('\n')
        .Where(l => l.Contains("WARNING") || l.Contains("ERROR")).TakeLast(40).Select(l => $"{n.Name}: {l}")));

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _all) await n.DisposeAsync();
        foreach (var p in _programs) await p.DisposeAsync();
        if (App is not null) await App.DisposeAsync();
        _net.Down();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A test of the seed suite: skipped, with the reason, where network namespaces (or redis-server) are missing.</summary>
public sealed class SeedFactAttribute : FactAttribute
{
    public SeedFactAttribute()
    {
        if ((NetNs.WhyUnavailable ?? RedisServer.WhyUnavailable) is { } why) Skip = why;
    }
}
