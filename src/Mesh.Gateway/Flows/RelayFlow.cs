using Mesh.Contracts.Metrics;
using Mesh.Transport.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Flows;

/// <summary>
/// An open frame for another gateway: pass it to the next hop on the route table's path, with one hop
/// less in its budget, relay the answer back, and splice the two links (frames pass through unchanged).
/// </summary>
public static class RelayFlow
{
    /// <returns>how the flow ended, and whether the link it arrived on may carry another flow</returns>
    public static async Task<(FlowOutcome Outcome, bool FromReusable)> RunAsync(LinkConnection from, Open open, FlowContext ctx, CancellationToken ct)
    {
        var table = ctx.Routes.Current;
        if (table is null) return await RefuseAsync(RefuseReason.NoRoute, $"{ctx.Self} has no route table yet");
        if (table.GatewayNamed(ctx.Self) is not { IsCore: true })   // paths never cross an edge: a peer that asks is wrong or hostile
            return await RefuseAsync(RefuseReason.NotAllowed, $"{ctx.Self} is an edge gateway: only core gateways relay flows to others ({open.Destination})");
        if (ctx.ShortOfDescriptorsFor(from)) return await RefuseAsync(RefuseReason.NoRoute, $"{ctx.Self} is short of file descriptors: not relaying to {open.Destination}");
        if (open.HopBudget <= 1) return await RefuseAsync(RefuseReason.HopBudgetExhausted, $"hop budget exhausted at {ctx.Self} on the way to {open.Destination}");
        if (FlowPolicy.ForgedOrigin(from.PeerIdentity, open, ctx.Trust) is { } forged) return await RefuseAsync(RefuseReason.NotAllowed, forged);
        if (table.ServiceNamed(open.Service)?.Owner != open.Destination)
            return await RefuseAsync(RefuseReason.UnknownService, $"{ctx.Self} knows no service '{open.Service}' owned by {open.Destination}");
        if (table.Via(open.Destination) is not { } planned || table.GatewayNamed(planned) is not { } plannedNext)
            return await RefuseAsync(RefuseReason.NoRoute, $"{ctx.Self} has no path to {open.Destination}");
        var next = Detour.Pick(table, plannedNext, ctx, cameFrom: from.Peer);
        var via = next.Name;

        var forwarded = open with { HopBudget = (byte)(open.HopBudget - 1) };
        var (to, result) = await ClientFlow.ClaimTowardsAsync(next, forwarded, table, ctx, ct);
        if (to is null) return await RefuseAsync(RefuseReason.NoRoute, $"{ctx.Self} has no link to {via}: {result.Error}");
        if (result.Status == ClaimStatus.Refused)
        {
            await ctx.ReleaseLinkAsync(to, reusable: true);
            return await RefuseAsync(result.Refusal!.Reason, result.Refusal.Message);   // the owner's own words
        }
        if (!await PeerFlow.TryWriteAsync(from, new Accept(open.FlowId)))
        {
            await to.DisposeAsync();   // the owner then fails its side of the flow
            return (FlowOutcome.Failed($"link to {from.Peer} lost before the flow started"), false);
        }
        MeshMeter.RelayedFlows.Add(1, new KeyValuePair<string, object?>("from", from.Peer), new KeyValuePair<string, object?>("to", via));
        var relayed = await RelayPump.RunAsync(from.Stream, to.Stream, ct, $"the link from {from.Peer}", $"the link to {via}");
        await ctx.ReleaseLinkAsync(to, relayed.OwnerSideReusable);
        return (FlowOutcome.From(relayed.Pump), relayed.EntrySideReusable);

        async Task<(FlowOutcome, bool)> RefuseAsync(RefuseReason reason, string message)
        {
            var clean = await PeerFlow.TryWriteAsync(from, new Refuse(open.FlowId, reason, message));
            return (FlowOutcome.Refused(reason, $"{reason}: {message}"), clean);
        }
    }
}
