using System.Net.Sockets;
using System.Security.Cryptography;
using Mesh.Transport.Flows;
using Mesh.Transport.Protocol;
using static Mesh.Transport.Tests.TestSockets;

namespace Mesh.Transport.Tests;

/// <summary>The copy loop every pump shares, through <see cref="BytePump"/> on real sockets and on frames in memory.</summary>
public sealed class StreamCopySpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A client and a service, each connected to its side of a running <see cref="BytePump"/>.</summary>
    private sealed record Pumped(Socket Client, Socket Service, NetworkStream AtClient, NetworkStream AtService, Task<PumpOutcome> Pump) : IAsyncDisposable
    {
        public static async Task<Pumped> Start(TimeSpan idleTimeout)
        {
            var (client, atClient) = await SocketPair();
            var (atService, service) = await SocketPair();
            var (c, s) = (new NetworkStream(atClient, ownsSocket: true), new NetworkStream(atService, ownsSocket: true));
            return new Pumped(client, service, c, s, BytePump.RunAsync(c, s, idleTimeout, default));
        }

        // Held until the test ends, as ClientFlow holds them: a socket left to the finalizer is reset, cutting a reply short.
        public async ValueTask DisposeAsync()
        {
            await AtClient.DisposeAsync();
            await AtService.DisposeAsync();
            Client.Dispose();
            Service.Dispose();
        }
    }

    [Fact]
    public async Task A_half_closed_client_gets_the_whole_reply_and_every_byte_is_counted()
    {
        await using var flow = await Pumped.Start(TimeSpan.Zero);
        var (client, service) = (flow.Client, flow.Service);
        var echo = Task.Run(async () =>
        {
            await using var s = new NetworkStream(service);
            await s.CopyToAsync(s);   // until the client's FIN reaches the service
            service.Shutdown(SocketShutdown.Send);
        });
        var request = RandomNumberGenerator.GetBytes(1 << 20);
        await using var stream = new NetworkStream(client);
        var reply = new MemoryStream();
        var receive = stream.CopyToAsync(reply);
        await stream.WriteAsync(request);
        client.Shutdown(SocketShutdown.Send);
        await receive.WaitAsync(Wait);
        await echo.WaitAsync(Wait);

        var outcome = await flow.Pump.WaitAsync(Wait);
        Assert.Equal(request, reply.ToArray());
        Assert.Equal(new PumpOutcome(PumpResult.Completed, 1 << 20, 1 << 20), outcome);
    }

    [Fact]
    public async Task A_service_that_resets_fails_the_flow_with_the_side_that_broke()
    {
        await using var flow = await Pumped.Start(TimeSpan.Zero);
        var (client, service) = (flow.Client, flow.Service);
        await client.SendAsync(new byte[10]);
        await service.ReceiveAsync(new byte[10]);
        service.LingerState = new LingerOption(true, 0);
        service.Close();   // RST

        var outcome = await flow.Pump.WaitAsync(Wait);
        Assert.Equal(PumpResult.Failed, outcome.Result);
        Assert.Contains("the service", outcome.Error);
        Assert.Equal(10, outcome.BytesUp);
    }

    [Fact]
    public async Task A_flow_that_moves_nothing_ends_as_idle()
    {
        await using var flow = await Pumped.Start(TimeSpan.FromMilliseconds(200));
        await flow.Client.SendAsync(new byte[5]);
        await flow.Service.ReceiveAsync(new byte[5]);   // then nothing moves either way

        Assert.Equal(new PumpOutcome(PumpResult.IdleTimeout, 5, 0), await flow.Pump.WaitAsync(Wait));
    }

    private static byte[] Frames(params Frame[] frames)
    {
        var bytes = new MemoryStream();
        var buffer = new byte[FrameCodec.MaxFrame];
        foreach (var f in frames) bytes.Write(buffer, 0, FrameCodec.Encode(f, buffer));
        return bytes.ToArray();
    }

    private static byte[] Data(int n)
    {
        var frame = new byte[FrameCodec.HeaderSize + n];
        FrameCodec.EncodeDataHeader(frame, n);
        return frame;
    }

    private static async Task<(CopyResult, List<FrameType>, long)> CopyFrames(byte[] wire)
    {
        var seen = new List<FrameType>();
        var activity = new FlowActivity();
        var result = await StreamCopy.RunAsync(new MemoryStream(wire), CopySource.Frames, chunk =>
        {
            seen.Add(chunk.Type);
            return ValueTask.CompletedTask;
        }, activity, up: true, default);
        return (result, seen, activity.Up);
    }

    [Fact]
    public async Task Frames_are_passed_on_until_the_last_one_and_an_empty_Data_frame_is_not_an_end()
    {
        var (result, seen, up) = await CopyFrames([.. Data(0), .. Data(4000), .. Frames(End.Instance), .. Data(1)]);
        Assert.Equal(new CopyResult(CopyEnd.LastFrame), result);
        Assert.Equal(new[] { FrameType.Data, FrameType.Data, FrameType.End }, seen);   // nothing after the last frame
        Assert.Equal(4000, up);   // Data bytes only
    }

    [Fact]
    public async Task A_link_that_ends_between_frames_is_a_cut_and_a_frame_foreign_to_a_flow_a_protocol_error()
    {
        var (cut, _, _) = await CopyFrames(Data(5));
        Assert.Equal(new CopyResult(CopyEnd.SourceClosed), cut);
        var (foreign, seen, _) = await CopyFrames(Frames(new Ping(7)));
        Assert.Equal(CopyEnd.ReadFailed, foreign.End);
        Assert.IsType<ProtocolException>(foreign.Error);
        Assert.Empty(seen);
    }
}
