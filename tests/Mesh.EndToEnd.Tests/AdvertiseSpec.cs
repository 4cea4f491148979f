using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Bind and advertise apart (issue 14): a core gateway bound to 0.0.0.0 and advertising another address carries
/// flows and serves the director; a `links` address of its own that it cannot be serving is reported, naming it.
/// (The seed suite runs the same behind a real 1:1 NAT in network namespaces.)
/// </summary>
public sealed class AdvertiseSpec : IAsyncDisposable
{
    private readonly SoloCore _core = new() { ListenHost = "0.0.0.0" };
    private readonly EchoServer _echo = new();

    public async ValueTask DisposeAsync()
    {
        await _core.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task A_core_bound_to_every_address_advertising_one_serves_and_reports_a_links_address_it_cannot_be_serving()
    {
        var entry = FreePorts.Next();
        var elsewhere = FreePorts.Next();
        // core1's links: its own port (served through 0.0.0.0) and a port nothing binds
        var config = _core.Config($"""
            [services.echo]
            gateway = "core1"
            target = "127.0.0.1:{_echo.Port}"
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{entry}"
            service = "echo"
            """).Replace($"links = [\"127.0.0.1:{_core.Link}\"]", $"links = [\"127.0.0.1:{_core.Link}\", \"127.0.0.1:{elsewhere}\"]");
        var node = await _core.StartAsync(config, "--advertise", "127.0.0.1");

        var error = await node.WaitForLineAsync(l => l.Contains($"127.0.0.1:{elsewhere}") && l.Contains("--advertise"), TestMesh.Ready);
        Assert.Contains($"at 127.0.0.1:{elsewhere}, but it listens on 0.0.0.0:{_core.Link} (--listen) and is known as 127.0.0.1 (--advertise)", error);
        Assert.DoesNotContain(node.Output.Split('\n'), l => l.Contains($"dial it at 127.0.0.1:{_core.Link},"));   // the served one is not reported
        Assert.Contains($"cluster address akka.ssl.tcp://mesh@127.0.0.1:{_core.ClusterPort}", node.Output);
        await node.WaitForEntryListeningAsync($"127.0.0.1:{entry}", "echo", TestMesh.Ready);
        Assert.True(await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(entry), TimeSpan.FromSeconds(15)));
    }
}
