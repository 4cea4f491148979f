using Akka.Actor;

namespace Mesh.Gateway.Control;

/// <summary>
/// How a gateway reaches the director. Answers arrive at the gateway actor as ordinary messages. Behind
/// one interface: a core gateway's goes through its control plane, an edge's over a control connection to a core gateway.
/// </summary>
public interface IDirectorChannel
{
    void Send(object message);

    /// <summary>The control plane seems stuck (no answer for long while the network works): start it again.</summary>
    void RestartControlPlane(string reason);
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

    /// <summary>Raised when the gateway asks for a new control plane; the node's restart loop ends the current one.</summary>
    public event Action<string>? RestartRequested;

    public void RestartControlPlane(string reason) => RestartRequested?.Invoke(reason);
}
