using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>One mesh of real processes and a real echo service, shared by the data-plane tests.</summary>
public sealed class MeshFixture : IAsyncLifetime
{
    public EchoServer Echo { get; } = new();
    public TestMesh Mesh { get; } = new();
    /// <summary>An entry on core1 for a service of core2 that nothing checks and nothing listens for: only its owner's dial finds it gone.</summary>
    public int UncheckedEntry { get; } = FreePorts.Next();

    public async Task InitializeAsync()
    {
        await Mesh.StartAsync(Echo.Port, downPort: FreePorts.Next(), moreServices: $$"""
            [services.unchecked]
            gateway = "core2"
            target = "127.0.0.1:{{FreePorts.Next()}}"
            check = { kind = "none" }
            """, moreEntries: $$"""
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{{UncheckedEntry}}"
            service = "unchecked"
            """);
        await Mesh.ReadyForFlowsAsync();
    }

    public async Task DisposeAsync()
    {
        await Mesh.DisposeAsync();
        await Echo.DisposeAsync();
    }
}

/// <summary>Bytes through entries of real gateways, as a client would send them.</summary>
public sealed class DataPlaneSpec(MeshFixture fixture) : IClassFixture<MeshFixture>
{
    private TestMesh Mesh => fixture.Mesh;

    private static Task<Socket> Connect(int port) => ClientFlows.ConnectAsync(port);

    private static async Task<(string Sent, string Received, long ReceivedBytes)> RoundTrip(int port, long size) =>
        await ClientFlows.RoundTripAsync(await Connect(port), size);

    /// <summary>A round trip must bring back every byte, unchanged; on failure, say what the gateways logged.</summary>
    private async Task AssertComesBackWhole(int entry, long size)
    {
        var (sent, received, bytes) = await RoundTrip(entry, size);
        Assert.True(bytes == size, $"{bytes} of {size} bytes came back; gateway warnings:\n{Mesh.Warnings()}");
        Assert.Equal(sent, received);
    }

    [Fact]
    public Task Two_hundred_fifty_six_MiB_of_random_bytes_come_back_identical_core_to_edge() => AssertComesBackWhole(Mesh.EchoEntry, 256L << 20);

    [Fact]
    public Task Bytes_come_back_identical_edge_to_core() => AssertComesBackWhole(Mesh.Echo2Entry, 32L << 20);

    [Fact]
    public Task Bytes_come_back_identical_between_two_edges_through_a_core_relay() => AssertComesBackWhole(Mesh.Echo3Entry, 32L << 20);

    [Fact]
    public async Task A_relay_refuses_an_open_frame_whose_hop_budget_is_spent_or_whose_service_it_does_not_know()
    {
        Assert.Equal(RefuseReason.HopBudgetExhausted, (await OpenOnCore1("echo", "edge1", hopBudget: 1)).Reason);
        var unknown = await OpenOnCore1("nosuch", "edge1", hopBudget: 8);
        Assert.Equal(RefuseReason.UnknownService, unknown.Reason);
        Assert.Contains("knows no service 'nosuch' owned by edge1", unknown.Message);
    }

    /// <summary>Sends an open frame to core1 as a gateway would, for a service owned elsewhere, and returns the refusal.</summary>
    private async Task<Refuse> OpenOnCore1(string service, string destination, byte hopBudget)
    {
        var flags = await Mesh.Certificates.FlagsFor("edge2");
        var identity = MeshIdentity.Load(flags[1], flags[3], flags[5]);
        var link = await LinkHandshake.DialAsync(identity, "core1", new IPEndPoint(IPAddress.Loopback, Mesh.Link1), TimeSpan.FromSeconds(5), default);
        await using (link)
        {
            var open = new Open(FrameCodec.OpenVersion, Guid.NewGuid(), service, destination, hopBudget, "127.0.0.1:1", "edge2");
            var result = await new LinkRegistry((_, _) => { }).ClaimFreshAsync(link, open, TimeSpan.FromSeconds(10), default);
            Assert.True(result.Status == ClaimStatus.Refused, $"{result.Status}: {result.Error}");
            return result.Refusal!;
        }
    }

    [Fact]
    public async Task Flows_one_after_another_every_way_on_reused_connections_all_come_back_whole()
    {
        // Each flow ends cleanly on its link, so the next one runs on the same connections: a flow whose
        // end was misread would leave bytes behind and corrupt the next (this once lost 1 flow in ~40).
        for (var i = 0; i < 40; i++)
        {
            var (entry, direction) = (i % 3) switch
            {
                0 => (Mesh.Echo2Entry, "edge to core"),
                1 => (Mesh.EchoEntry, "core to edge"),
                _ => (Mesh.Echo3Entry, "edge to edge"),
            };
            var (sent, received, bytes) = await RoundTrip(entry, 4L << 20);
            Assert.True(bytes == 4L << 20 && sent == received,
                $"flow {i} ({direction}): {bytes} bytes came back, {(sent == received ? "same" : "different")} hash; gateway warnings:\n{Mesh.Warnings()}");
        }
    }

    [Fact]
    public async Task A_client_that_shuts_its_sending_side_still_receives_the_full_reply()
    {
        using var s = await Connect(Mesh.EchoEntry);
        var message = RandomNumberGenerator.GetBytes(100_000);
        await s.SendAsync(message);
        s.Shutdown(SocketShutdown.Send);
        var reply = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await s.ReceiveAsync(buffer)) > 0) reply.Write(buffer, 0, n);
        Assert.Equal(message, reply.ToArray());
    }

    [Fact]
    public async Task Two_hundred_concurrent_flows_all_complete_byte_exact()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            RoundTrip(i % 2 == 0 ? Mesh.EchoEntry : Mesh.Echo2Entry, 64 * 1024 + i)));
        var broken = results.Select((r, i) => (r, i)).Where(x => x.r.Sent != x.r.Received)
            .Select(x => $"flow {x.i} ({(x.i % 2 == 0 ? "core to edge" : "edge to core")}): {x.r.ReceivedBytes} bytes back").ToList();
        Assert.True(broken.Count == 0, $"{string.Join("; ", broken)}; gateway warnings:\n{Mesh.Warnings()}");
        Assert.Equal(Enumerable.Range(0, 200).Sum(i => 64L * 1024 + i), results.Sum(r => r.ReceivedBytes));
    }

    [Fact]
    public async Task A_flow_to_a_service_its_owner_cannot_reach_is_closed_at_once_and_the_reason_logged()
    {   // no check says it is down, so the entry accepts; the owner's dial fails and the entry closes the client
        var clock = Stopwatch.StartNew();
        using var s = await Connect(fixture.UncheckedEntry);
        var buffer = new byte[16];
        int n;
        try { n = await s.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10)); }
        catch (SocketException) { n = 0; }   // a reset is a close too
        Assert.Equal(0, n);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the client waited {clock.Elapsed.TotalSeconds:0.0}s to be refused");
        await Mesh.Core1.WaitForLineAsync(l => l.Contains("unchecked") && l.Contains("ServiceUnreachable"), TimeSpan.FromSeconds(10));   // the reason, logged
        await Mesh.Core1.WaitForMetricAsync("mesh_flow_refusals_total{reason=\"service_unreachable\",service=\"unchecked\"}", v => v >= 1, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_entry_of_a_service_its_owner_reports_down_refuses_clients_at_connect_like_a_local_server_that_is_down()
    {
        await Mesh.Core1.WaitForEntryNotListeningAsync($"127.0.0.1:{Mesh.DownEntry}", "down", TimeSpan.FromSeconds(30));
        var refused = await Assert.ThrowsAsync<SocketException>(() => Connect(Mesh.DownEntry));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task An_open_frame_for_an_unknown_service_is_refused_with_its_reason()
    {
        var flags = await Mesh.Certificates.FlagsFor("edge2");
        var identity = MeshIdentity.Load(flags[1], flags[3], flags[5]);
        var link = await LinkHandshake.DialAsync(identity, "core2", new IPEndPoint(IPAddress.Loopback, Mesh.Link2), TimeSpan.FromSeconds(5), default);
        var registry = new LinkRegistry((_, _) => { });
        var open = new Open(FrameCodec.OpenVersion, Guid.NewGuid(), "nosuch", "core2", 8, "127.0.0.1:1", "edge2");
        var result = await registry.ClaimFreshAsync(link, open, TimeSpan.FromSeconds(10), default);
        Assert.Equal(ClaimStatus.Refused, result.Status);
        Assert.Equal(RefuseReason.UnknownService, result.Refusal!.Reason);
        Assert.Contains("owns no service 'nosuch'", result.Refusal.Message);
    }

    [Fact]
    public async Task A_node_whose_certificate_is_from_another_ca_cannot_join_the_cluster()
    {
        var rogueDir = Path.Combine(Mesh.Certificates.Dir, "intruder");
        Assert.Equal(0, (await NodeProcess.RunCliAsync("ca", "init", "--out", Path.Combine(rogueDir, "ca"), "--mesh", "e2e")).ExitCode);
        Assert.Equal(0, (await NodeProcess.RunCliAsync("cert", "issue", "core9", "--role", "core", "--ca", Path.Combine(rogueDir, "ca"), "--out", rogueDir)).ExitCode);
        await using var intruder = NodeProcess.Start("core9", Mesh.Dir, "--name", "core9", "--join", Mesh.Join,
            "--listen", $"127.0.0.1:{FreePorts.Next()}", "--cluster-port", $"{FreePorts.Next()}",
            "--cert", Path.Combine(rogueDir, "core9.crt"), "--key", Path.Combine(rogueDir, "core9.key"), "--ca", Path.Combine(rogueDir, "ca", "ca.crt"));

        // The core gateways turn it away at the TLS handshake of the cluster port, and say why.
        var refused = await Task.WhenAny(
            Mesh.Core1.WaitForLineAsync(l => l.Contains("is not from this mesh's CA"), TimeSpan.FromSeconds(30)),
            Mesh.Core2.WaitForLineAsync(l => l.Contains("is not from this mesh's CA"), TimeSpan.FromSeconds(30)));
        Assert.Contains("core9", await refused);
        Assert.DoesNotContain("route table", intruder.Output);   // it never reached the director
    }

    [Fact]
    public async Task Peers_with_a_foreign_certificate_or_plaintext_are_rejected_and_flows_go_on()
    {
        var rogueDir = Path.Combine(Mesh.Certificates.Dir, "rogue");
        Assert.Equal(0, (await NodeProcess.RunCliAsync("ca", "init", "--out", Path.Combine(rogueDir, "ca"), "--mesh", "e2e")).ExitCode);
        Assert.Equal(0, (await NodeProcess.RunCliAsync("cert", "issue", "edge1", "--ca", Path.Combine(rogueDir, "ca"), "--out", rogueDir)).ExitCode);
        var rogue = MeshIdentity.FromCertificate(
            System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(Path.Combine(rogueDir, "edge1.crt"), Path.Combine(rogueDir, "edge1.key")),
            System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Mesh.Certificates.CaCert)));
        await Assert.ThrowsAsync<LinkException>(() =>
            LinkHandshake.DialAsync(rogue, "core1", new IPEndPoint(IPAddress.Loopback, Mesh.Link1), TimeSpan.FromSeconds(5), default));

        using (var plain = await Connect(Mesh.Link1))
        {
            await plain.SendAsync("PING\r\n"u8.ToArray());
            try { while (await plain.ReceiveAsync(new byte[64]) > 0) { } } catch (SocketException) { }
        }
        await Mesh.Core1.WaitForLineAsync(l => l.Contains("TLS handshake failed"), TimeSpan.FromSeconds(10));

        var (sent, received, bytes) = await RoundTrip(Mesh.EchoEntry, 1 << 20);   // nothing else was disturbed
        Assert.True(sent == received, $"{bytes} of {1 << 20} bytes came back; gateway warnings:\n{Mesh.Warnings()}");
    }
}
