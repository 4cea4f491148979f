using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Mesh.Contracts;

namespace Mesh.Gateway.Control;

/// <summary>The control plane (re)started and can carry requests: the gateway asks for its table now.</summary>
public sealed record DirectorReachable
{
    public static readonly DirectorReachable Instance = new();
}

/// <summary>
/// Lives in a core gateway's control-plane actor system (a cluster member) and carries the gateway's
/// requests to the director; whatever comes back (answers, route-change pushes) goes to the gateway,
/// which may live in another, longer-lived actor system of the same process.
/// </summary>
public sealed class DirectorBridge : ReceiveActor
{
    public sealed record ToDirector(object Message);

    /// <summary>A core gateway: the singleton through the local proxy, and route-change pushes through pub-sub.</summary>
    public static Props ViaSingletonProxy(IActorRef proxy, IActorRef mediator, IActorRef gateway) =>
        Props.Create(() => new DirectorBridge((m, self) => proxy.Tell(m, self), mediator, gateway));

    private readonly IActorRef? _mediator;
    private readonly IActorRef _gateway;

    public DirectorBridge(Action<object, IActorRef> send, IActorRef? mediator, IActorRef gateway)
    {
        (_mediator, _gateway) = (mediator, gateway);
        Receive<ToDirector>(m => send(m.Message, Self));
        Receive<SubscribeAck>(_ => { });
        ReceiveAny(m => _gateway.Tell(m));
    }

    protected override void PreStart()
    {
        _mediator?.Tell(new Subscribe(Topics.Routes, Self));
        _gateway.Tell(DirectorReachable.Instance);
    }
}
