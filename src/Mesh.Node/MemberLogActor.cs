using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Mesh.Node;

/// <summary>
/// Says on one line each when a member of the cluster is up, is reachable again, and is removed: what an
/// operator needs of Akka's own cluster lines, which are logged from WARNING only (Akka's own warning says
/// when a member becomes unreachable).
/// </summary>
public sealed class MemberLogActor : ReceiveActor
{
    public static Props Props() => Akka.Actor.Props.Create(() => new MemberLogActor());

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public MemberLogActor()
    {
        Receive<ClusterEvent.MemberUp>(m => _log.Info("cluster: {0} is up ({1}){2}", Who(m.Member), m.Member.Address, IsSelf(m.Member) ? ": this gateway is a member" : ""));
        Receive<ClusterEvent.ReachableMember>(m => _log.Info("cluster: {0} is reachable again ({1})", Who(m.Member), m.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(m => _log.Info("cluster: {0} {1} ({2})", Who(m.Member),
            m.PreviousStatus == MemberStatus.Down ? "was downed and removed" : "left", m.Member.Address));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
    }

    private bool IsSelf(Member m) => m.Address.Equals(_cluster.SelfAddress);

    private static string Who(Member m) => MeshHocon.NameOf(m);

    protected override void PreStart() => _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
        typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
