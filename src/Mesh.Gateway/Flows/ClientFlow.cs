using Mesh.Config;
using System.Net.Sockets;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;
using Mesh.Transport.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Flows;

/// <summary>
/// One client connection accepted on an entry: dial the service if this gateway owns it, otherwise claim
/// a link to the owner, open the flow there, and pump. A refusal or failure closes the client at once.
/// </summary>
public static class ClientFlow
{
    public static async Task<FlowOutcome> RunAsync(Socket client, ListenEntry entry, FlowContext ctx, CancellationToken ct)
    {
        await using var clientStream = new NetworkStream(client, ownsSocket: true);
        var table = ctx.Routes.Current;
        var service = table?.ServiceNamed(entry.Service);
        if (table is null || service is null) return FlowOutcome.Refused(RefuseReason.UnknownService, $"unknown service '{entry.Service}'");
        if (ctx.Health.DownReason(service.Name) is { } down) return FlowOutcome.Refused(RefuseReason.ServiceDown, $"{RefuseReason.ServiceDown}: {service.Name} is down: {down}");
        SocketTuning.ForFlow(client);
        var outcome = service.Owner == ctx.Self
            ? await ToLocalServiceAsync(clientStream, table, service.Name, ct)
            : await ToOwnerAsync(clientStream, client, table, service, ctx, ct);
        if (outcome.Broken) SocketTuning.Reset(client);
        return outcome;
    }

    private static async Task<FlowOutcome> ToLocalServiceAsync(NetworkStream client, RouteTable table, string service, CancellationToken ct)
    {
        var owned = table.OwnedNamed(service);
        if (owned is null) return FlowOutcome.Refused(RefuseReason.UnknownService, $"this gateway owns no service '{service}'");
        var (socket, error) = await ServiceDialer.DialAsync(Endpoints.Parse(owned.Target), table.Flows.DialTimeout, ct);
        if (socket is null) return FlowOutcome.Failed($"{service}: {error}");
        await using var serviceStream = new NetworkStream(socket, ownsSocket: true);
        return FlowOutcome.From(await BytePump.RunAsync(client, serviceStream, table.Flows.FlowIdleTimeout, ct));
    }

    private static async Task<FlowOutcome> ToOwnerAsync(NetworkStream clientStream, Socket client, RouteTable table, ServiceInfo service,
        FlowContext ctx, CancellationToken ct)
    {
        var owner = table.GatewayNamed(service.Owner);
        if (owner is null) return FlowOutcome.Refused(RefuseReason.NoRoute, $"no route to {service.Owner}: not in the route table");
        if (table.Via(owner.Name) is not { } via || table.GatewayNamed(via) is not { } planned)
            return FlowOutcome.Refused(RefuseReason.NoRoute, $"no route to {owner.Name}: no working path in the route table");
        var next = Detour.Pick(table, planned, ctx);

        var open = new Open(FrameCodec.OpenVersion, Guid.NewGuid(), service.Name, owner.Name, FlowContext.DefaultHopBudget,
            client.RemoteEndPoint?.ToString() ?? "?", Origin: ctx.Self);
        var (link, result) = await ClaimTowardsAsync(next, open, table, ctx, ct);
        if (link is null) return FlowOutcome.Failed($"no link to {next.Name}: {result.Error}");
        if (result.Status == ClaimStatus.Refused)
        {
            await ctx.ReleaseLinkAsync(link, reusable: true);
            // the message names the gateway that refused (the owner, or a relay on the way)
            return FlowOutcome.Refused(result.Refusal!.Reason, $"{result.Refusal.Reason}: {result.Refusal.Message}{(next.Name == owner.Name ? "" : $" (through {next.Name})")}");
        }
        var pumped = await LinkPump.RunAsync(clientStream, link.Stream, atEntry: true, table.Flows.FlowIdleTimeout, ct,
            "the client", $"the link to {next.Name}");
        await ctx.ReleaseLinkAsync(link, pumped.LinkReusable);
        return FlowOutcome.From(pumped);
    }

    /// <summary>
    /// Claims a connection to the next hop: an idle pooled one; towards a gateway this one dials (a core
    /// gateway, or for an edge an edge that accepts links), a fresh one if none is idle, dialed in turn with the
    /// other flows of a burst (<see cref="LinkPool.FreshDialsAtOnce"/>); towards an edge that dials this one,
    /// waits a little for its pool to refill.
    /// </summary>
    internal static async Task<(LinkConnection?, ClaimResult)> ClaimTowardsAsync(GatewayInfo next, Open open, RouteTable table,
        FlowContext ctx, CancellationToken ct)
    {
        var answerTimeout = table.Flows.DialTimeout + TimeSpan.FromSeconds(5);
        if (table.LinkModeOf(open.Service) == LinkMode.Mux)
        {   // a stream costs no claim and no handshake; without a session yet, the pool carries the flow
            var (stream, opened) = await ctx.Links.ClaimStreamAsync(next.Name, open, answerTimeout, ct);
            if (opened is not null) return (stream, opened);
        }
        var pool = ctx.Links.Pool(next.Name);
        if (!table.Dials(next)) return await pool.ClaimAsync(open, FlowContext.EdgePoolWait, answerTimeout, ct);
        var (link, result) = await pool.ClaimAsync(open, TimeSpan.Zero, answerTimeout, ct);
        if (link is not null) return (link, result);
        if (!await pool.AwaitFreshDialAsync(FlowContext.FreshDialWait, ct))
            return (null, new ClaimResult(ClaimStatus.Failed, Error:
                $"no idle link, and no turn to dial one within {FlowContext.FreshDialWait.TotalSeconds:0}s ({LinkPool.FreshDialsAtOnce} dials at once, all busy)"));
        var turn = true;
        try
        {
            // while this flow waited for its turn, connections may have come back or been added: one costs no handshake
            (link, result) = await pool.ClaimAsync(open, TimeSpan.Zero, answerTimeout, ct);
            if (link is not null) return (link, result);
            return await DialFreshAsync(next, open, answerTimeout, ctx, () => { pool.EndFreshDial(); turn = false; }, ct);
        }
        finally
        {
            if (turn) pool.EndFreshDial();
        }
    }

    /// <summary>
    /// No idle link to a gateway this one dials: dial one for this flow rather than fail it. The turn ends
    /// (<paramref name="endTurn"/>) as soon as the handshake is over, before the peer answers the open.
    /// </summary>
    private static async Task<(LinkConnection?, ClaimResult)> DialFreshAsync(GatewayInfo owner, Open open, TimeSpan answerTimeout,
        FlowContext ctx, Action endTurn, CancellationToken ct)
    {
        var error = "it has no link address";
        LinkConnection? link = null;
        foreach (var address in owner.Links)
        {
            try
            {
                MeshMeter.Dials.Add(1, new KeyValuePair<string, object?>("peer", owner.Name));
                link = await LinkHandshake.DialAsync(ctx.Identity, owner.Name, Endpoints.Parse(address), FlowContext.LinkDialTimeout, ct, ctx.Trust);
                break;
            }
            catch (LinkException e) { error = e.Message; }
        }
        endTurn();
        if (link is null) return (null, new ClaimResult(ClaimStatus.Failed, Error: error));
        var result = await ctx.Links.ClaimFreshAsync(link, open, answerTimeout, ct);
        if (result.Status is ClaimStatus.Accepted or ClaimStatus.Refused) return (link, result);
        await link.DisposeAsync();
        return (null, new ClaimResult(ClaimStatus.Failed, Error: result.Error ?? result.Status.ToString()));
    }
}
