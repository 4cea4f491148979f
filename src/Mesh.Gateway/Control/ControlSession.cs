using Mesh.Contracts.Health;
using Mesh.Contracts.Logging;
using Mesh.Contracts.Routing;
using Mesh.Contracts.Wire;
using Mesh.Transport.Links;

namespace Mesh.Gateway.Control;

/// <summary>How a core gateway asks the director on behalf of an edge (through its control plane's singleton proxy).</summary>
public interface IDirectorAsk
{
    /// <summary>The director's answer, or null if it did not answer in time (moving, or no control plane right now).</summary>
    Task<object?> AskAsync(object message, TimeSpan timeout);
}

/// <summary>
/// A core gateway's end of an edge's control channel (ADR 0010). The edge may send three things: a request
/// for its route table, its link report, its health report. Each is stamped with the name the edge's
/// certificate proved (whatever the message says), carried to the director, and the answer is sent back.
/// Anything else closes the channel. A few requests may wait for the director at once (a long poll and the
/// reports); beyond that they are dropped (the edge resends them) rather than queued without bound.
/// </summary>
public sealed class ControlSession
{
    /// <summary>The longest long poll a session carries; the director answers within 20 s.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(20);
    /// <summary>Requests of one edge waiting for the director at once: a long poll and a few reports (resent every 2 s while unanswered).</summary>
    private const int MaxInFlight = 8;
    private readonly LogLimiter _busyLogs = new(TimeSpan.FromMinutes(1));

    private readonly ControlChannel _channel;
    private readonly IDirectorAsk _director;
    private readonly Action<string> _log;
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);

    private ControlSession(ControlChannel channel, IDirectorAsk director, Action<string> log) =>
        (_channel, _director, _log) = (channel, director, log);

    /// <summary>Serves the channel until it ends; <paramref name="log"/> gets the lines worth an operator's eye.</summary>
    public static async Task RunAsync(LinkConnection link, IDirectorAsk director, Action<string> log)
    {
        var channel = new ControlChannel(link);
        var session = new ControlSession(channel, director, log);
        channel.Start(session.OnMessageAsync);
        using var keepAlive = new PeriodicTimer(Liveness.PingEvery);
        while (!channel.Ended.IsCompleted && await Task.WhenAny(channel.Ended, keepAlive.WaitForNextTickAsync().AsTask()) != channel.Ended)
            await channel.KeepAliveAsync(ping: false);
        var reason = await channel.Ended;
        log($"control channel of {link.Peer} ended: {reason}");
    }

    /// <summary>Returns at once: answers are sent when the director gives them (a long poll holds one for seconds).</summary>
    private async Task OnMessageAsync(ReadOnlyMemory<byte> bytes)
    {
        object message;
        try { message = WireCodec.Unframe(bytes.Span); }
        catch (WireException e)
        {
            _log($"control channel of {_channel.Peer}: {LogText.Safe(e.Message)}; closing it");
            await _channel.DisposeAsync();
            return;
        }
        var proven = _channel.Peer;
        object? stamped = message switch
        {
            GetRouteTable r => r with { Gateway = proven, Wait = r.Wait < TimeSpan.Zero ? TimeSpan.Zero : r.Wait > MaxWait ? MaxWait : r.Wait },
            LinkReport r => r with { Gateway = proven },
            HealthReport r => r with { Gateway = proven },
            _ => null,
        };
        if (stamped is null)
        {
            _log($"control channel of {proven}: an edge may not send {message.GetType().Name}; closing it");
            await _channel.DisposeAsync();
            return;
        }
        if (!await _inFlight.WaitAsync(0))
        {   // the director is slow (moving, say) and the edge resends: drop this one, it will come again
            if (_busyLogs.ShouldLog(proven, Environment.TickCount64, out _))
                _log($"control channel of {proven}: {MaxInFlight} requests already wait for the director; dropping more until it answers");
            return;
        }
        _ = ForwardAsync(stamped);
    }

    private async Task ForwardAsync(object request)
    {
        try
        {
            var timeout = (request is GetRouteTable r ? r.Wait : TimeSpan.Zero) + TimeSpan.FromSeconds(5);
            if (await _director.AskAsync(request, timeout) is { } answer && answer is IRoutingMessage)
            {
                var frame = WireCodec.Frame(answer);
                if (frame.Length > ControlChannel.MaxMessage)
                {   // said, not dropped unseen: the edge asks again, and an operator sees why it never gets an answer
                    _log($"control channel of {_channel.Peer}: the director's {answer.GetType().Name} is {frame.Length:N0} bytes, over the channel's " +
                         $"limit of {ControlChannel.MaxMessage:N0}; not sent");
                    return;
                }
                await _channel.SendAsync(frame);
            }
            // no answer: the edge asks again (requests time out, reports are resent until acknowledged)
        }
        finally { _inFlight.Release(); }
    }
}
