using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// DNS (issue 16): a gateway's --dns answers the mesh's names as `dig` asks them, and the address it gives reaches the
/// service; an edge started with --join dns:NAME finds its core gateway through SRV records, and follows them when the
/// core gateway moves.
/// </summary>
public sealed class DnsSpec : IAsyncLifetime
{
    private readonly EchoServer _echo = new();
    private readonly List<IAsyncDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var o in Enumerable.Reverse(_owned)) await o.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [DigFact]
    public async Task Dig_gets_the_entry_of_a_service_its_SRV_record_and_a_gateway_and_the_answer_reaches_the_service()
    {
        var solo = Own(new SoloCore());
        var (entry, dns) = (FreePorts.Next(), FreePorts.Next());
        await solo.StartAsync(solo.Config($$"""
            [services.echo]
            gateway = "core1"
            target = "127.0.0.1:{{_echo.Port}}"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{entry}}"
            service = "echo"
            """), "--dns", $"127.0.0.1:{dns}");
        await solo.Node.WaitForEntryListeningAsync($"127.0.0.1:{entry}", "echo", TestMesh.Ready);

        Assert.Equal("127.0.0.1", await Dig(dns, "+short", "echo.mesh", "A"));
        Assert.Equal("127.0.0.1", await Dig(dns, "+short", "+tcp", "echo.mesh", "A"));   // TCP too
        Assert.Equal($"0 0 {entry} echo.mesh.", await Dig(dns, "+short", "_echo._tcp.mesh", "SRV"));
        Assert.Matches(@"echo\.mesh\.\s+\d+\s+IN\s+A\s+127\.0\.0\.1", await Dig(dns, "+noall", "+additional", "_echo._tcp.mesh", "SRV"));
        Assert.Equal("127.0.0.1", await Dig(dns, "+short", "core1.gateway.mesh", "A"));   // its link address
        Assert.Contains("status: NXDOMAIN", await Dig(dns, "nosuch.mesh", "A"));
        Assert.Contains("status: NXDOMAIN", await Dig(dns, "nosuch.gateway.mesh", "A"));
        Assert.Contains("status: REFUSED", await Dig(dns, "example.org", "A"));   // not a recursive resolver

        // what an app does with the answer: connect to the SRV port at the A record's address, and its bytes arrive
        var port = int.Parse((await Dig(dns, "+short", "_echo._tcp.mesh", "SRV")).Split(' ')[2]);
        var address = IPAddress.Parse(await Dig(dns, "+short", "echo.mesh", "A"));
        using var app = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await app.ConnectAsync(address, port);
        var (sent, received, bytes) = await ClientFlows.RoundTripAsync(app, 64 << 10);
        Assert.Equal((sent, 64L << 10), (received, bytes));

        // garbage on both transports is dropped, and the server still answers
        using (var udp = new UdpClient())
            foreach (var size in new[] { 0, 1, 11, 12, 13, 300 }) await udp.SendAsync(RandomBytes(size), new IPEndPoint(IPAddress.Loopback, dns));
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, dns);
            await tcp.GetStream().WriteAsync(RandomBytes(200));
        }
        Assert.Equal("127.0.0.1", await Dig(dns, "+short", "echo.mesh", "A"));
        Assert.False(solo.Node.HasExited);
    }

    [Theory]
    [InlineData(new[] { "--dns", "dns.example:53" }, "--dns: 'dns.example' is not an IP address")]
    [InlineData(new[] { "--dns", "127.0.0.1:0" }, "--dns: port '0' in '127.0.0.1:0' must be a number from 1 to 65535")]
    [InlineData(new[] { "--dns", "127.0.0.1" }, "--dns: '127.0.0.1' is not HOST:PORT")]
    [InlineData(new[] { "--join", "dns:bad name" }, "--join: 'dns:bad name': 'bad name' is not a DNS name")]
    [InlineData(new[] { "--join", "dns:_mesh._tcp.example.org", "--dns-resolver", "ns.example:53" }, "--dns-resolver: 'ns.example' is not an IP address")]
    [InlineData(new[] { "--join", "127.0.0.1:7443", "--dns-resolver", "127.0.0.1:53" }, "--dns-resolver needs --join dns:NAME")]
    [InlineData(new[] { "--listen", "127.0.0.1:7443", "--join", "dns:_mesh._tcp.example.org" }, "--join dns:_mesh._tcp.example.org: a core gateway's --join lists the seeds' cluster addresses")]
    public async Task A_bad_dns_flag_exits_2_with_one_line_naming_the_flag(string[] flags, string expected)
    {
        var (code, output) = await NodeProcess.RunAsync(["--name", "edge1", .. flags]);
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
    }

    [Fact]
    public async Task An_edge_joins_through_SRV_records_and_follows_them_when_its_core_gateway_moves()
    {
        const string srv = "_mesh._tcp.example.org";
        var dir = Directory.CreateTempSubdirectory("mesh-dns-").FullName;
        var certificates = new TestCertificates(Path.Combine(dir, "pki"));
        var zone = new TestZone();
        _owned.Add(new Disposer(() => zone.Dispose()));
        var (oldLink, newLink, cluster, entry, api) = (FreePorts.Next(), FreePorts.Next(), FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
        var config = Path.Combine(dir, "mesh.toml");
        var token = Path.Combine(dir, "admin.token");
        await File.WriteAllTextAsync(token, TestMesh.ApiToken + "\n");
        async Task<NodeProcess> StartCore(int link)
        {
            await File.WriteAllTextAsync(config, $$"""
                [mesh]
                name = "e2e"
                pool_size = 2
                [gateways.core1]
                links = ["127.0.0.1:{{link}}"]
                [gateways.edge1]
                [services.echo]
                gateway = "core1"
                target = "127.0.0.1:{{_echo.Port}}"
                [[entries]]
                gateway = "edge1"
                listen = "127.0.0.1:{{entry}}"
                service = "echo"
                """);
            return Own(NodeProcess.Start("core1", dir, ["--name", "core1", "--listen", $"127.0.0.1:{link}", "--cluster-port", $"{cluster}",
                "--config", config, "--state-dir", Path.Combine(dir, "state"), "--api", $"127.0.0.1:{api}", "--api-token-file", token,
                .. await certificates.FlagsFor("core1")]));
        }

        zone.Srv(srv, "core1.example.org", oldLink);
        var core = await StartCore(oldLink);
        var edge = Own(NodeProcess.Start("edge1", dir, ["--name", "edge1", "--join", $"dns:{srv}", "--dns-resolver", zone.Address,
            "--metrics", $"127.0.0.1:{FreePorts.Next()}", .. await certificates.FlagsFor("edge1")]));
        await edge.WaitForEntryListeningAsync($"127.0.0.1:{entry}", "echo", TestMesh.Ready);   // its table came through the SRV answer
        Assert.NotNull(await ClientFlows.FirstEchoAsync(() => ClientFlows.ConnectAsync(entry), TestMesh.Ready));

        // core1 moves to another link port, as an operator moves it: the SRV record first, then core1 started there with its
        // config's links changed and applied (`mesh reload`: the stored config is the truth). The edge's table still says
        // the old port: only the SRV record leads it to the director, which then gives it the new table.
        await core.DisposeAsync();
        var mark = edge.Mark();
        zone.Srv(srv, "core1.example.org", newLink);
        var clock = Stopwatch.StartNew();
        core = await StartCore(newLink);
        using var http = TestMesh.Http($"http://127.0.0.1:{api}", TestMesh.ApiToken);
        Assert.True(await Poll.UntilAsync(async () =>
        {
            try { return (await http.PostAsync("/v1/reload", null)).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, TestMesh.Ready), $"core1 never applied its changed config; core1:\n{core.Output}");
        await edge.WaitForLineAsync(l => l.Contains($"control channel to the director up through core1 (127.0.0.1:{newLink})"), TestMesh.Ready, mark);
        var back = await ClientFlows.FirstEchoAsync(() => ClientFlows.ConnectAsync(entry), TestMesh.Ready);
        Assert.True(back is not null, $"no flow through edge1's entry within {TestMesh.Ready.TotalSeconds} s of core1's move; edge1:\n{edge.Output}");
        Console.WriteLine($"flows back {clock.Elapsed.TotalSeconds:0.0} s after core1 started on its new link port");
    }

    private T Own<T>(T thing) where T : IAsyncDisposable
    {
        _owned.Add(thing);
        return thing;
    }

    private static byte[] RandomBytes(int size) => System.Security.Cryptography.RandomNumberGenerator.GetBytes(size);

    /// <summary>Runs dig against 127.0.0.1:<paramref name="port"/>; its output, trimmed.</summary>
    private static async Task<string> Dig(int port, params string[] args)
    {
        var start = new ProcessStartInfo(Dig_.Path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["@127.0.0.1", "-p", $"{port}", "+time=2", "+tries=2", .. args]) start.ArgumentList.Add(a);
        using var dig = Process.Start(start)!;
        var output = await dig.StandardOutput.ReadToEndAsync();
        await dig.WaitForExitAsync();
        return output.Trim();
    }

    private sealed class Disposer(Action dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            dispose();
            return ValueTask.CompletedTask;
        }
    }
}

internal static class Dig_
{
    public const string Path = "/usr/bin/dig";
    public static string? WhyUnavailable => File.Exists(Path) ? null : "dig is not installed (Debian package bind9-dnsutils; ./test.sh installs it when run as root)";
}

/// <summary>A test that runs dig: skipped, with the reason, where it is not installed.</summary>
public sealed class DigFactAttribute : FactAttribute
{
    public DigFactAttribute()
    {
        if (Dig_.WhyUnavailable is { } why) Skip = why;
    }
}
