using System.Net;
using Mesh.Transport.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;
namespace Mesh.Transport.Tests;
/// <summary>A relay splices two links: when one breaks, the endpoint behind the other is told (Abort) and resets its side.</summary>
public sealed class RelayPumpSpec
{
    [Fact]
    public async Task A_relay_whose_owner_side_is_cut_between_frames_aborts_the_entry_side_at_once()
    {
        var core = TestPki.Mesh.Identity("core1", role: GatewayRole.Core);
        using var server = new LinkServer(new IPEndPoint(IPAddress.Loopback, 0));
        var arrived = System.Threading.Channels.Channel.CreateUnbounded<LinkConnection>();
        var registry = new LinkRegistry((_, _) => { });
        server.Start(core, registry, null, new LinkServerHooks(c => arrived.Writer.TryWrite(c), _ => { }, _ => { }));
        var a = await LinkHandshake.DialAsync(TestPki.Mesh.Identity("site-a"), "core1", server.LocalEndPoint, TimeSpan.FromSeconds(5), default, purpose: LinkPurpose.Control);
        var atRa = await arrived.Reader.ReadAsync();
        var b = await LinkHandshake.DialAsync(TestPki.Mesh.Identity("site-b"), "core1", server.LocalEndPoint, TimeSpan.FromSeconds(5), default, purpose: LinkPurpose.Control);
        var atRb = await arrived.Reader.ReadAsync();
        var relay = RelayPump.RunAsync(atRa.Stream, atRb.Stream, default, "from a", "to b");
        using var stop = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            var frame = new byte[FrameCodec.HeaderSize + 100];
            FrameCodec.EncodeDataHeader(frame, 100);
            try { while (!stop.IsCancellationRequested) { await a.Stream.WriteAsync(frame); await Task.Delay(10); } } catch { }
        });
        var draining = Task.Run(async () => { var buf = new byte[4096]; try { while (await b.Stream.ReadAsync(buf) > 0) { } } catch { } });
        await Task.Delay(300);   // the flow runs (a sends a frame every 10 ms)
        await atRb.DisposeAsync();   // the cut (a revoked owner, a lost link): nothing more will come from b
        var header = new byte[FrameCodec.HeaderSize];
        var got = Task.Run(async () => { await a.Stream.ReadExactlyAsync(header); return FrameCodec.DecodeHeader(header).Type; });
        var done = await Task.WhenAny(got, Task.Delay(3000));
        stop.Cancel();
        Assert.True(done == got, "the entry side heard nothing of the cut (it once waited until its own side spoke again, forever for a quiet flow)");
        Assert.Equal(FrameType.Abort, await got);
    }
}
