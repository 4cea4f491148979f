using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Mesh.Transport.Security;

namespace Mesh.Node;

/// <summary>
/// Keeps the cluster to the core gateways the served route map declares (docs/security.md). Every second it
/// looks at the members: one whose certificate (as proved when this node dialed it) names another gateway
/// than the one it claims, that the config no longer declares as a core gateway, or whose certificate is
/// revoked, is downed at once, so it never hosts the director and its links to the cluster are cut.
/// The TLS check refuses such a peer's new connections; this removes one that was a member already.
/// </summary>
public sealed class ClusterGuardActor : ReceiveActor, IWithTimers
{
    public static Props Props(MeshTrust trust, ClusterPeers peers) => Akka.Actor.Props.Create(() => new ClusterGuardActor(trust, peers));

    private sealed record Check
    {
        public static readonly Check Instance = new();
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<UniqueAddress> _downed = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public ClusterGuardActor(MeshTrust trust, ClusterPeers peers)
    {
        var cluster = Cluster.Get(Context.System);
        Receive<Check>(_ =>
        {
            foreach (var member in cluster.State.Members)
            {
                if (member.Address.Equals(cluster.SelfAddress) || member.Status is MemberStatus.Down or MemberStatus.Removed or MemberStatus.Exiting
                    || _downed.Contains(member.UniqueAddress)) continue;
                if (Why(member, trust, peers) is not { } why) continue;
                _downed.Add(member.UniqueAddress);
                _log.Warning("cluster: downing {0} ({1}): {2}", MeshHocon.NameOf(member), member.Address, why);
                cluster.Down(member.Address);
            }
        });
    }

    /// <summary>Why <paramref name="member"/> may not stay in the cluster, or null.</summary>
    public static string? Why(Member member, MeshTrust trust, ClusterPeers peers)
    {
        var claimed = MeshHocon.NameOf(member);
        var proved = peers.At(member.Address.Host ?? "", member.Address.Port ?? 0);
        if (proved is not null && proved.Name != claimed)
            return $"it claims to be gateway '{claimed}' but its certificate names '{proved.Name}'";
        if (proved is not null) return trust.AdmitClusterMember(proved) is { IsAdmitted: false } refused ? refused.Reason : null;
        var declared = trust.Policy.Declared;
        if (declared is not null && declared.GetValueOrDefault(claimed) != true)
            return $"'{claimed}' is not a core gateway of the mesh config";
        return null;
    }

    protected override void PreStart() => Timers.StartPeriodicTimer("check", Check.Instance, TimeSpan.FromSeconds(1));
}
