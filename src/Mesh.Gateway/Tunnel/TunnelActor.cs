using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Metrics;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Tunnel;

/// <summary>Published on the local event stream when a flow ends (for metrics and tests).</summary>
public sealed record TunnelClosed(string Service, string From, FlowOutcome Outcome);

/// <summary>
/// One flow. The bytes move in tasks outside the mailbox; the actor owns their lifetime (stopping it
/// cancels them), logs how the flow ended, and stops. A flow is never restarted.
/// </summary>
public sealed class TunnelActor : ReceiveActor
{
    // Props from a type and arguments, not from an expression: Akka compiles `() => new T(...)` expressions,
    // which costs milliseconds of JIT per flow (measured: 16% of CPU under connection churn).

    /// <summary>A client accepted on one of our entries.</summary>
    public static Props ForClient(Socket client, ListenEntry entry, FlowContext ctx) =>
        Props.Create(typeof(TunnelActor), new Func<CancellationToken, Task<FlowOutcome>>(ct => ClientFlow.RunAsync(client, entry, ctx, ct)),
            entry.Service, client.RemoteEndPoint?.ToString() ?? "?", true);

    /// <summary>A flow a peer opened on one of our links.</summary>
    public static Props ForPeer(LinkConnection link, Open open, FlowContext ctx) =>
        Props.Create(typeof(TunnelActor), new Func<CancellationToken, Task<FlowOutcome>>(ct => PeerFlow.ServeAsync(link, open, ctx, ct)),
            open.Service, $"{link.Peer} ({open.ClientAddress})", false);

    private sealed record Finished(FlowOutcome Outcome);

    private readonly CancellationTokenSource _stop = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <param name="atEntry">a client of one of our entries (counted in the flow metrics; peers' flows are counted at their entry)</param>
    public TunnelActor(Func<CancellationToken, Task<FlowOutcome>> run, string service, string from, bool atEntry)
    {
        var metrics = atEntry ? FlowMetrics.Started(service) : null;
        Receive<Finished>(m =>
        {
            var o = m.Outcome;
            metrics?.Ended(o);
            if (o.End is FlowEnd.Refused or FlowEnd.Failed)
                _log.Warning("flow to {0} from {1} {2}: {3}", service, from, o.End == FlowEnd.Refused ? "refused" : "failed", o.Detail);
            else
                _log.Debug("flow to {0} from {1} {2}: {3} bytes up, {4} down", service, from, o.Detail, o.BytesUp, o.BytesDown);
            Context.System.EventStream.Publish(new TunnelClosed(service, from, o));
            Context.Stop(Self);
        });
        run(_stop.Token).PipeTo(Self, success: o => new Finished(o),
            failure: e => new Finished(FlowOutcome.Failed(e.GetBaseException().Message)));
    }

    protected override void PostStop()
    {
        _stop.Cancel();   // a flow outlives no one: the pumps end with it
        _stop.Dispose();
    }
}
