using System.Net.Sockets;
using Mesh.Transport.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Flows;

/// <summary>
/// A flow a peer opened on one of our links: this gateway owns the service, so it dials the target,
/// answers Accept (or a typed Refuse), and pumps.
/// </summary>
public static class PeerFlow
{
    public static async Task<FlowOutcome> ServeAsync(LinkConnection link, Open open, FlowContext ctx, CancellationToken ct)
    {
        await using (link)
        {
            var table = ctx.Routes.Current;
            if (open.Destination != ctx.Self)
                return await RefuseAsync(link, open, RefuseReason.NoRoute, $"{ctx.Self} is not {open.Destination} and relaying is not built yet");
            if (open.HopBudget == 0)
                return await RefuseAsync(link, open, RefuseReason.HopBudgetExhausted, "hop budget exhausted");
            if (table is null)
                return await RefuseAsync(link, open, RefuseReason.NoRoute, $"{ctx.Self} has no route table yet");
            var owned = table.Owned.FirstOrDefault(o => o.Name == open.Service);
            if (owned is null)
                return await RefuseAsync(link, open, RefuseReason.UnknownService, $"{ctx.Self} owns no service '{open.Service}'");

            var (socket, error) = await ServiceDialer.DialAsync(Endpoints.Parse(owned.Target), table.Flows.DialTimeout, ct);
            if (socket is null) return await RefuseAsync(link, open, RefuseReason.ServiceUnreachable, $"{open.Service}: {error}");
            await using var service = new NetworkStream(socket, ownsSocket: true);
            try { await link.WriteAsync(new Accept(open.FlowId)); }
            catch (Exception e) when (e is IOException or OperationCanceledException) { return FlowOutcome.Failed($"link to {link.Peer} lost before the flow started"); }
            return ClientFlow.Pumped(await BytePump.RunAsync(link.Stream, service, table.Flows.FlowIdleTimeout, ct));
        }
    }

    private static async Task<FlowOutcome> RefuseAsync(LinkConnection link, Open open, RefuseReason reason, string message)
    {
        try { await link.WriteAsync(new Refuse(open.FlowId, reason, message)); }
        catch (Exception e) when (e is IOException or OperationCanceledException) { }
        return FlowOutcome.Refused($"{reason}: {message}");
    }
}
