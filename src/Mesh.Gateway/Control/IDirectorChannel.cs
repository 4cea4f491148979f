using Akka.Actor;

namespace Mesh.Gateway.Control;

/// <summary>
/// How a gateway reaches the director. Answers arrive at the gateway actor as ordinary messages. Behind
/// one interface so the edge's channel can later move off ClusterClient without touching the gateway.
/// </summary>
public interface IDirectorChannel
{
    void Send(object message);
}

/// <summary>
/// The gateway outlives the control plane: a core node downed by the split-brain resolver restarts its
/// cluster actor system, while the gateway's listeners, links and flows go on (docs/adr/0005). Each
/// control plane that starts attaches its <see cref="DirectorBridge"/>; while none is attached, requests
/// are dropped and the gateway asks again when the next bridge says it is ready.
/// </summary>
public sealed class BridgedDirectorChannel : IDirectorChannel
{
    private volatile IActorRef? _bridge;

    public void Attach(IActorRef bridge) => _bridge = bridge;

    public void Detach(IActorRef bridge) => Interlocked.CompareExchange(ref _bridge, null, bridge);

    public void Send(object message) => _bridge?.Tell(new DirectorBridge.ToDirector(message));
}
