using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Mesh.Contracts;

namespace Mesh.Gateway.Control;

/// <summary>
/// How a gateway reaches the director. Behind one interface so the edge's channel can later move off
/// ClusterClient (e.g. onto the data link) without touching the gateway.
/// </summary>
public interface IDirectorChannel
{
    void Send(object message, IActorRef replyTo);
}

/// <summary>A core gateway is a cluster member: it talks to the singleton through its local proxy.</summary>
public sealed class SingletonProxyChannel(IActorRef proxy) : IDirectorChannel
{
    public void Send(object message, IActorRef replyTo) => proxy.Tell(message, replyTo);
}

/// <summary>
/// An edge gateway is not a member: it reaches the receptionists of the core gateways through its own
/// outbound connection, and replies come back over that same connection (works behind NAT).
/// </summary>
public sealed class ClusterClientChannel(IActorRef clusterClient) : IDirectorChannel
{
    public void Send(object message, IActorRef replyTo) =>
        clusterClient.Tell(new ClusterClient.Send(ActorPaths.DirectorProxyPath, message), replyTo);
}
