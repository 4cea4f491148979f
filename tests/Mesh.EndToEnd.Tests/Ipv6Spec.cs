using System.Net;
using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>Skipped, with the reason, where the host has no IPv6 loopback (::1).</summary>
public sealed class Ipv6FactAttribute : FactAttribute
{
    public Ipv6FactAttribute()
    {
        if (!HasIpv6Loopback()) Skip = "this host has no IPv6 loopback (::1)";
    }

    private static bool HasIpv6Loopback()
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return true;
        }
        catch (SocketException) { return false; }
    }
}

/// <summary>
/// Core gateways on IPv6 addresses (issue 21: a core on [::1] logged "Invalid URI" forever and never served a
/// route table): links, the cluster, --join and --advertise with [::1]; an edge joining through them; and an
/// address the host does not have is one line naming the flag.
/// </summary>
public sealed class Ipv6Spec : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-v6-").FullName;
    private readonly List<NodeProcess> _nodes = [];
    private readonly EchoServer _echo = new();
    private readonly int[] _links = [FreePorts.Next(), FreePorts.Next()];
    private readonly int[] _clusters = [FreePorts.Next(), FreePorts.Next()];
    private readonly int _entry = FreePorts.Next(), _api = FreePorts.Next();
    private readonly TestCertificates _pki;

    public Ipv6Spec() => _pki = new TestCertificates(Path.Combine(_dir, "pki"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
        await _echo.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private async Task<NodeProcess> StartAsync(string name, params string[] args)
    {
        var node = NodeProcess.Start(name, _dir, ["--name", name, .. args, .. await _pki.FlagsFor(name)]);
        _nodes.Add(node);
        return node;
    }

    [Ipv6Fact]
    public async Task Two_core_gateways_and_an_edge_on_ipv6_form_the_mesh_and_carry_a_flow_byte_exact()
    {
        var config = Path.Combine(_dir, "mesh.toml");
        await File.WriteAllTextAsync(config, $"""
            [mesh]
            name = "v6"
            [gateways.core1]
            links = ["[::1]:{_links[0]}"]
            [gateways.core2]
            links = ["[::1]:{_links[1]}"]
            [gateways.edge1]
            [services.echo]
            gateway = "edge1"
            target = "127.0.0.1:{_echo.Port}"
            [[entries]]
            gateway = "core2"
            listen = "[::1]:{_entry}"
            service = "echo"
            """);
        var join = $"[::1]:{_clusters[0]},[::1]:{_clusters[1]}";
        var token = Path.Combine(_dir, "admin.token");
        await File.WriteAllTextAsync(token, TestMesh.ApiToken + "\n");
        var core1 = await StartAsync("core1", "--listen", $"[::]:{_links[0]}", "--advertise", "[::1]", "--cluster-port", $"{_clusters[0]}", "--join", join,
            "--config", config, "--state-dir", Path.Combine(_dir, "s1"), "--api", $"[::1]:{_api}", "--api-token-file", token);
        var core2 = await StartAsync("core2", "--listen", $"[::1]:{_links[1]}", "--cluster-port", $"{_clusters[1]}", "--join", join,
            "--config", config, "--state-dir", Path.Combine(_dir, "s2"), "--metrics", $"[::1]:{FreePorts.Next()}");
        var edge1 = await StartAsync("edge1", "--join", $"[::1]:{_links[0]},[::1]:{_links[1]}", "--metrics", $"[::1]:{FreePorts.Next()}");

        await core2.WaitForEntryListeningAsync($"[::1]:{_entry}", "echo", TestMesh.Ready);
        await edge1.WaitForLinkUpAsync("core2", TestMesh.Ready);
        using var api = TestMesh.Http($"http://[::1]:{_api}", TestMesh.ApiToken);
        var cluster = await api.PollJsonAsync("/v1/cluster", c => c.TryGetProperty("members", out var m)
            && m.EnumerateArray().Count(x => x.GetProperty("status").GetString() == "Up") == 2, TestMesh.Ready);
        var addresses = cluster.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("address").GetString()).Order().ToList();
        Assert.Equal([$"akka.ssl.tcp://mesh@[::1]:{_clusters[0]}", $"akka.ssl.tcp://mesh@[::1]:{_clusters[1]}"], addresses);

        Assert.True(await ClientFlows.EchoesAsync(ConnectV6, TimeSpan.FromSeconds(30)), "no flow through core2's [::1] entry");
        var (sent, received, bytes) = await ClientFlows.RoundTripAsync(await ConnectV6(), 4 << 20);
        Assert.Equal(4L << 20, bytes);
        Assert.Equal(sent, received);
        Assert.DoesNotContain("Invalid URI", core1.Output + core2.Output);
    }

    private async Task<Socket> ConnectV6()
    {
        var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(IPAddress.IPv6Loopback, _entry);
        return s;
    }

    [Theory]
    [InlineData("--listen", "[2001:db8::7]:{0}")]
    [InlineData("--api", "[2001:db8::7]:{0}")]
    public async Task An_ipv6_address_this_host_does_not_have_is_one_line_naming_the_flag(string flag, string address)
    {
        var port = FreePorts.Next();
        var value = string.Format(address, port);
        string[] args = flag == "--listen"
            ? ["--name", "core1", "--listen", value, "--cluster-port", $"{FreePorts.Next()}"]
            : ["--name", "core1", "--listen", $"[::1]:{FreePorts.Next()}", "--cluster-port", $"{FreePorts.Next()}", "--api", value,
               "--api-token-file", await TokenFileAsync()];
        var (code, output) = await NodeProcess.RunAsync([.. args, .. await _pki.FlagsFor("core1")]);
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"{flag} {value}: this host has no such address", line);
    }

    private async Task<string> TokenFileAsync()
    {
        var token = Path.Combine(_dir, "admin.token");
        await File.WriteAllTextAsync(token, TestMesh.ApiToken + "\n");
        return token;
    }
}
