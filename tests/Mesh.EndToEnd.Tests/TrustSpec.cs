using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;
using Mesh.Contracts.Wire;
using Mesh.Tests.Shared;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.EndToEnd.Tests;

/// <summary>A mesh of real processes for the attack replays that leave it as it was.</summary>
public sealed class TrustMesh : IAsyncLifetime
{
    private readonly EchoServer _echo = new();
    public TestMesh Mesh { get; } = new();

    public async Task InitializeAsync()
    {
        await Mesh.StartAsync(_echo.Port, downPort: FreePorts.Next(), api: true);
        await Mesh.ReadyForFlowsAsync();
    }

    public async Task DisposeAsync()
    {
        await Mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }
}

/// <summary>
/// Attacks on the mesh's trust, replayed with real processes and real TLS (issue 12): a stolen or rogue
/// certificate of the mesh CA tries to join the cluster, take the director, open flows, or forge reports.
/// Each fails at its first step, and the logs say why.
/// </summary>
public sealed class TrustSpec(TrustMesh fixture) : IClassFixture<TrustMesh>
{
    private static readonly TimeSpan Refused = TimeSpan.FromSeconds(30);
    private TestMesh Mesh => fixture.Mesh;
    private string Api => $"http://127.0.0.1:{Mesh.ApiPort}";

    private async Task<MeshIdentity> IdentityOf(string name, bool core = false)
    {
        var flags = await Mesh.Certificates.FlagsFor(name, core);
        return MeshIdentity.Load(flags[1], flags[3], flags[5]);
    }

    private async Task<IReadOnlyList<string>> ClusterMembers()
    {
        using var http = TestMesh.Http(Api);
        var cluster = await http.GetJsonAsync("/v1/cluster");
        return cluster.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("gateway").GetString()!).Order().ToList();
    }

    [Fact]
    public async Task An_edge_certificate_cannot_make_a_gateway_a_cluster_member_the_binary_refuses_and_the_cluster_refuses_it()
    {
        // The unmodified binary, started as a core gateway with an edge's key: it stops at once and says why.
        var flags = await Mesh.Certificates.FlagsFor("edge2");
        var (code, output) = await NodeProcess.RunAsync(["--name", "edge2", "--listen", $"127.0.0.1:{FreePorts.Next()}", "--cluster-port", $"{FreePorts.Next()}",
            "--join", Mesh.Join, .. flags]);
        Assert.Equal(2, code);
        Assert.Contains("is an edge certificate", output);
        Assert.Contains("--role core", output);

        // A modified one (Akka remoting with that key, accepting anything itself) is refused by the cluster, which says why.
        var edge = await IdentityOf("edge2");
        var port = FreePorts.Next();
        var hocon = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{port}}, enable-ssl = on }
            akka.cluster.seed-nodes = ["akka.ssl.tcp://mesh@{{Mesh.Join.Split(',')[0]}}"]
            akka.cluster.roles = ["core", "gateway:core9", "director"]
            akka.loglevel = WARNING
            """);
        var attacker = ActorSystem.Create("mesh", BootstrapSetup.Create().WithConfig(hocon)
            .And(new DotNettySslSetup(edge.Certificate, suppressValidation: true, requireMutualAuthentication: true)));
        try
        {
            var line = await Task.WhenAny(
                Mesh.Core1.WaitForLineAsync(l => l.Contains("has the edge role"), Refused),
                Mesh.Core2.WaitForLineAsync(l => l.Contains("has the edge role"), Refused));
            Assert.Contains("only core certificates may join the cluster", await line);
            Assert.Equal(["core1", "core2"], await ClusterMembers());
        }
        finally { await attacker.Terminate(); }
    }

    [Fact]
    public async Task A_core_certificate_for_an_undeclared_name_cannot_join_the_cluster_nor_become_director_and_both_sides_say_why()
    {
        var evil = Path.Combine(Mesh.Dir, "evil.toml");
        await File.WriteAllTextAsync(evil, (await File.ReadAllTextAsync(Mesh.ConfigPath)).Replace("[gateways.edge2]", $"""
            [gateways.edge2]
            [gateways.rogue]
            links = ["127.0.0.1:{FreePorts.Next()}"]
            """));
        var token = Path.Combine(Mesh.Dir, "rogue.token");
        await File.WriteAllTextAsync(token, "rogue-token-0123456789\n");
        var link = FreePorts.Next();
        await using var rogue = NodeProcess.Start("rogue", Mesh.Dir, ["--name", "rogue", "--listen", $"127.0.0.1:{link}", "--cluster-port", $"{FreePorts.Next()}",
            "--join", Mesh.Join, "--config", evil, "--api", $"127.0.0.1:{FreePorts.Next()}", "--api-token-file", token,
            .. await Mesh.Certificates.FlagsFor("rogue", core: true)]);

        var refusedAt = await Task.WhenAny(
            Mesh.Core1.WaitForLineAsync(l => l.Contains("'rogue' is not a gateway of the mesh config"), Refused),
            Mesh.Core2.WaitForLineAsync(l => l.Contains("'rogue' is not a gateway of the mesh config"), Refused));
        await refusedAt;
        // TLS 1.3: the rogue's handshake may complete before the core rejects its certificate, so it sees either
        // a refused handshake or seeds that never take it in; both say what the cluster admits
        await rogue.WaitForLineAsync(l => (l.Contains("refused this gateway's certificate at the cluster's TLS handshake")
                                           || l.Contains("none of the seeds")) && l.Contains("declares as a core gateway"), TimeSpan.FromSeconds(30));
        Assert.Equal(["core1", "core2"], await ClusterMembers());
        using var http = TestMesh.Http(Api);
        var config = await http.GetJsonAsync("/v1/config");
        Assert.DoesNotContain("evil", config.GetProperty("appliedFrom").GetString());
    }

    [Fact]
    public async Task A_certificate_for_an_undeclared_gateway_cannot_link_so_cannot_open_a_flow()
    {
        var stranger = await IdentityOf("intruder");
        var e = await Assert.ThrowsAsync<LinkException>(() =>
            LinkHandshake.DialAsync(stranger, "core2", new IPEndPoint(IPAddress.Loopback, Mesh.Link2), TimeSpan.FromSeconds(5), default));
        Assert.Contains("refused this gateway: 'intruder' is not a gateway of the mesh config", e.Message);
        await Mesh.Core2.WaitForLineAsync(l => l.Contains("'intruder' is not a gateway of the mesh config"), Refused);
    }

    [Fact]
    public async Task A_declared_gateway_cannot_open_a_flow_to_a_service_it_may_not_reach_nor_claim_another_origin()
    {
        // echo2 is owned by core2 and published on core1 and edge1: edge2 has no entry for it.
        var edge2 = await IdentityOf("edge2");
        var refusal = await OpenAsync(edge2, "echo2", origin: "edge2");
        Assert.Equal(RefuseReason.NotAllowed, refusal.Reason);
        Assert.Contains("gateway 'edge2' may not reach echo2", refusal.Message);
        var forged = await OpenAsync(edge2, "echo2", origin: "edge1");   // edge1 may: pretending to be it
        Assert.Equal(RefuseReason.NotAllowed, forged.Reason);
        Assert.Contains("claims the flow comes from 'edge1'", forged.Message);
        await Mesh.Core2.WaitForLineAsync(l => l.Contains("echo2") && l.Contains("NotAllowed"), Refused);
    }

    private async Task<Refuse> OpenAsync(MeshIdentity who, string service, string origin)
    {
        await using var link = await LinkHandshake.DialAsync(who, "core2", new IPEndPoint(IPAddress.Loopback, Mesh.Link2), TimeSpan.FromSeconds(5), default);
        var open = new Open(FrameCodec.OpenVersion, Guid.NewGuid(), service, "core2", 8, "127.0.0.1:1", origin);
        var result = await new LinkRegistry((_, _) => { }).ClaimFreshAsync(link, open, TimeSpan.FromSeconds(10), default);
        Assert.True(result.Status == ClaimStatus.Refused, $"{result.Status}: {result.Error}");
        return result.Refusal!;
    }

    [Fact]
    public async Task Reports_an_edge_sends_are_about_itself_whatever_name_they_carry()
    {
        var edge2 = await IdentityOf("edge2");
        var channel = new ControlChannel(await LinkHandshake.DialAsync(edge2, "core1", new IPEndPoint(IPAddress.Loopback, Mesh.Link1),
            TimeSpan.FromSeconds(5), default, purpose: LinkPurpose.Control));
        var acks = System.Threading.Channels.Channel.CreateUnbounded<object>();
        channel.Start(m => acks.Writer.WriteAsync(WireCodec.Unframe(m.Span)).AsTask());
        var sequence = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        // "core2" says its service echo2 is down, and that its link to core1 is down: sent by edge2
        Assert.True(await channel.SendAsync(WireCodec.Frame(new HealthReport("core2", sequence,
            [new ServiceHealth("echo2", HealthState.Down, "forged", DateTimeOffset.UtcNow)]))));
        Assert.True(await channel.SendAsync(WireCodec.Frame(new LinkReport("core2", sequence, [new LinkStatus("core1", false, null)]))));
        Assert.IsType<HealthReportReceived>(await acks.Reader.ReadAsync().AsTask().WaitAsync(Refused));
        Assert.IsType<LinkReportReceived>(await acks.Reader.ReadAsync().AsTask().WaitAsync(Refused));

        using var http = TestMesh.Http(Api);
        var echo2 = await http.GetJsonAsync("/v1/services/echo2");
        Assert.NotEqual("down", echo2.GetProperty("health").GetString());
        var links = (await http.GetJsonAsync("/v1/links")).EnumerateArray().Select(l => $"{l.GetProperty("a").GetString()}-{l.GetProperty("b").GetString()}").ToList();
        Assert.Contains("core1-core2", links);   // what "core2" said about core1 was edge2's word about its own link
        Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(Mesh.Echo2Entry), TimeSpan.FromSeconds(10)));

        // an edge may only ask for its table and report: anything else closes its channel
        Assert.True(await channel.SendAsync(WireCodec.Frame(new PushConfig("[mesh]", "edge2"))));
        Assert.Contains("closed", await channel.Ended.WaitAsync(Refused));
        await Mesh.Core1.WaitForLineAsync(l => l.Contains("edge2") && l.Contains("may not send PushConfig"), Refused);
    }
}

/// <summary>Removing a gateway from the config, or revoking its certificate, cuts it off within seconds (each on a mesh of its own).</summary>
public sealed class RevocationSpec : IAsyncLifetime
{
    private static readonly TimeSpan Cut = TimeSpan.FromSeconds(5);
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();

    public async Task InitializeAsync()
    {
        await _mesh.StartAsync(_echo.Port, downPort: FreePorts.Next());
        await _mesh.ReadyForFlowsAsync();
        await _mesh.Edge2.WaitForLinkUpAsync("core2", TestMesh.Ready);
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task A_revoked_certificate_loses_its_links_and_flows_within_5s_and_is_refused_from_then_on()
    {
        using var steady = await SteadyFlow.StartAsync(await ClientFlows.ConnectAsync(_mesh.Echo3Entry));   // edge1 -> core -> edge2
        await steady.WaitForBytesAsync(64 * 1024);
        var show = await NodeProcess.RunCliAsync("cert", "show", Path.Combine(_mesh.Certificates.Dir, "certs", "edge2.crt"), "--json");
        var fingerprint = JsonDocument.Parse(show.Output).RootElement.GetProperty("fingerprint").GetString()!;
        Assert.StartsWith("sha256:", fingerprint);
        var marks = (_mesh.Core1.Mark(), _mesh.Core2.Mark());

        // the director reads its file every second: the cut is due within 5 s of that
        var config = await File.ReadAllTextAsync(_mesh.ConfigPath);
        await File.WriteAllTextAsync(_mesh.ConfigPath, config.Replace("pool_size = 4", $"pool_size = 4\nrevoked = [\"{fingerprint}\"]"));
        await CutOffAsync("its certificate is revoked", "is revoked", marks);
        Assert.True(await steady.Ended.WaitAsync(Cut), "the flow through edge2 was cut with a reset, not left running");
        Assert.False(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_mesh.Echo3Entry), TimeSpan.FromSeconds(3)));
        Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_mesh.EchoEntry), TimeSpan.FromSeconds(10)));   // others go on
    }

    [Fact]
    public async Task A_gateway_removed_from_the_config_loses_its_links_within_5s_and_is_refused_from_then_on()
    {
        var config = await File.ReadAllTextAsync(_mesh.ConfigPath);
        var without = config.Replace("[gateways.edge2]\n", "")
            .Replace($"[services.echo3]\ngateway = \"edge2\"\ntarget = \"127.0.0.1:{_echo.Port}\"\n", "")
            .Replace($"[[entries]]\ngateway = \"edge1\"\nlisten = \"127.0.0.1:{_mesh.Echo3Entry}\"\nservice = \"echo3\"\n", "");
        Assert.DoesNotContain("edge2", without);
        var marks = (_mesh.Core1.Mark(), _mesh.Core2.Mark());
        await File.WriteAllTextAsync(_mesh.ConfigPath, without);   // read by the director within a second, then cut within 5 s
        await CutOffAsync("it is no longer a gateway of the mesh config", "'edge2' is not a gateway of the mesh config", marks);
    }

    /// <summary>
    /// Within 5 s of the director reading the change (it reads its file every second), both core gateways apply
    /// the new table, and one that held edge2's links cuts them (edge2 also drops its own once its table says so;
    /// a stolen key would not). From then on both refuse edge2 and say why.
    /// </summary>
    private async Task CutOffAsync(string cutBecause, string refusedBecause, (int Core1, int Core2) marks)
    {
        var within = Cut + TimeSpan.FromSeconds(1);
        var edgeMark = _mesh.Edge2.Mark();
        await Task.WhenAll(   // the route table a gateway holds is only in its log; the cut and the refusals are what an operator reads
            _mesh.Core1.WaitForLineAsync(l => l.Contains("gateway core1: route table v2"), within, marks.Core1),
            _mesh.Core2.WaitForLineAsync(l => l.Contains("gateway core2: route table v2"), within, marks.Core2),
            Task.WhenAny(
                _mesh.Core1.WaitForLineAsync(l => l.Contains($"cut every link with edge2: {cutBecause}"), within, marks.Core1),
                _mesh.Core2.WaitForLineAsync(l => l.Contains($"cut every link with edge2: {cutBecause}"), within, marks.Core2)).Unwrap());
        await Task.WhenAll(   // edge2 keeps trying (with backoff): each refusal says why
            _mesh.Edge2.WaitForLineAsync(l => l.Contains("core1 at") && l.Contains("refused this gateway") && l.Contains(refusedBecause), TimeSpan.FromSeconds(15), edgeMark),
            _mesh.Edge2.WaitForLineAsync(l => l.Contains("core2 at") && l.Contains("refused this gateway") && l.Contains(refusedBecause), TimeSpan.FromSeconds(15), edgeMark));
    }
}
