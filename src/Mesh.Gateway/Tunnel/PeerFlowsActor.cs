using Akka.Actor;
using Mesh.Gateway.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Tunnel;

/// <summary>
/// The parent of the flows peers open on this gateway's links: one TunnelActor each. It has no other job,
/// so a burst of peer flows never waits behind a route table being applied or a report being sent (it
/// used to pass the gateway actor's mailbox); a failed flow stops.
/// </summary>
public sealed class PeerFlowsActor : ReceiveActor
{
    /// <summary>A peer opened a flow on one of our links (told from the link's reader, outside any actor).</summary>
    public sealed record Arrived(LinkConnection Link, Open Open) : INoSerializationVerificationNeeded;

    public static Props Props(FlowContext flows) => Akka.Actor.Props.Create(typeof(PeerFlowsActor), flows);

    public PeerFlowsActor(FlowContext flows) =>
        Receive<Arrived>(m => Context.ActorOf(TunnelActor.ForPeer(m.Link, m.Open, flows)));

    protected override SupervisorStrategy SupervisorStrategy() => ChildFailure.FlowsStop();
}
