using Mesh.Config;
using System.Net.Sockets;
using Mesh.Contracts.Logging;
using Mesh.Contracts.Metrics;
using Mesh.Transport.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Flows;

/// <summary>
/// A flow a peer opened on one of our links: if this gateway owns the service, it dials the target,
/// answers Accept (or a typed Refuse), and pumps; otherwise it relays the flow (<see cref="RelayFlow"/>). The link goes back to the pool if the flow ended cleanly.
/// </summary>
public static class PeerFlow
{
    public static async Task<FlowOutcome> ServeAsync(LinkConnection link, Open open, FlowContext ctx, CancellationToken ct)
    {
        var reusable = false;
        try
        {
            if (open.Destination != ctx.Self)
            {
                (var relayed, reusable) = await RelayFlow.RunAsync(link, open, ctx, ct);
                return relayed;
            }
            var table = ctx.Routes.Current;
            if (open.HopBudget == 0)
                return await RefuseAsync(RefuseReason.HopBudgetExhausted, "hop budget exhausted");
            if (table is null)
                return await RefuseAsync(RefuseReason.NoRoute, $"{ctx.Self} has no route table yet");
            var owned = table.OwnedNamed(open.Service);
            if (owned is null)
                return await RefuseAsync(RefuseReason.UnknownService, $"{ctx.Self} owns no service '{LogText.Safe(open.Service, 80)}'");
            if (FlowPolicy.Check(link.PeerIdentity, open, table, ctx.Trust) is { } denied)
            {
                MeshMeter.FlowsDenied.Add(1, new KeyValuePair<string, object?>("service", open.Service),
                    new KeyValuePair<string, object?>("origin", denied.Origin));
                return await RefuseAsync(RefuseReason.NotAllowed, denied.Message);
            }
            if (ctx.Health.DownReason(owned.Name) is { } down)
                return await RefuseAsync(RefuseReason.ServiceDown, $"{open.Service} is down: {down}");

            if (ctx.ShortOfDescriptorsFor(link))
                return await RefuseAsync(RefuseReason.ServiceUnreachable, $"{ctx.Self} is short of file descriptors: not opening another connection to {open.Service}");
            var (socket, error) = await ServiceDialer.DialAsync(Endpoints.Parse(owned.Target), table.Flows.DialTimeout, ct);
            if (socket is null) return await RefuseAsync(RefuseReason.ServiceUnreachable, $"{ctx.Self} cannot reach {open.Service} at {owned.Target}: {error}");
            await using var service = new NetworkStream(socket, ownsSocket: true);
            if (!await TryWriteAsync(link, new Accept(open.FlowId)))
                return FlowOutcome.Failed($"link to {link.Peer} lost before the flow started");
            var pumped = await LinkPump.RunAsync(service, link.Stream, atEntry: false, table.Flows.FlowIdleTimeout, ct,
                "the service", $"the link from {link.Peer}");
            reusable = pumped.LinkReusable;
            var outcome = FlowOutcome.From(pumped);
            if (outcome.Broken) SocketTuning.Reset(socket);
            return outcome;
        }
        finally { await ctx.ReleaseLinkAsync(link, reusable); }

        async Task<FlowOutcome> RefuseAsync(RefuseReason reason, string message)
        {
            reusable = await TryWriteAsync(link, new Refuse(open.FlowId, reason, message));   // a refused flow leaves the link clean
            return FlowOutcome.Refused(reason, $"{reason}: {message}");
        }
    }

    internal static async Task<bool> TryWriteAsync(LinkConnection link, Frame frame)
    {
        try
        {
            await link.WriteAsync(frame);
            return true;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { return false; }
    }
}
