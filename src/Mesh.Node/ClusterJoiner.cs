using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Mesh.Config;

namespace Mesh.Node;

/// <summary>
/// Pure: the seeds a core gateway joins, and whether (and when) it may found the cluster itself (ADR 0011).
/// Every core gateway gets the same --join list. The first one founds the cluster if no other answers (Akka's
/// own rule); the one at position r founds it only after r × <see cref="FoundAfterEach"/> without finding a
/// cluster to join, and only if no seed before it even answers on its cluster port (one that does is up, and
/// will take it in: a second cluster would never merge with it). So with the first seed down the second founds
/// it and the others join that one. A gateway not in the list never founds one. Members seen while this
/// process runs are seeds too: a core gateway that left (or was downed) rejoins the cluster it was in,
/// whatever its flags.
/// </summary>
public static class SeedPlan
{
    public static readonly TimeSpan FoundAfterEach = TimeSpan.FromSeconds(10);

    /// <summary>
    /// --join, then the members remembered (in that order, without repeats). A core gateway started without
    /// --join founds the cluster: it is a seed itself, after the members it remembers. One that was a member
    /// of a cluster while this process ran (it left, or was downed) goes last: the first seed founds a cluster
    /// when no other seed answers within 3 s, and a busy peer once took longer, so that core1, rejoining after
    /// `mesh cluster leave`, founded a second cluster and hosted a second director. Last, it founds one only
    /// when no other seed even answers on its cluster port.
    /// </summary>
    public static IReadOnlyList<HostPort> Seeds(NodeOptions o, IEnumerable<HostPort> remembered)
    {
        var others = remembered.Where(r => !IsSelf(o, r)).ToList();
        var seeds = o.Join.Concat(others).Distinct().ToList();
        if (o.Join.Count == 0) seeds.Add(Self(o));
        if (others.Count > 0 && seeds.FindIndex(s => IsSelf(o, s)) is >= 0 and var at)
        {
            var self = seeds[at];
            seeds.RemoveAt(at);
            seeds.Add(self);
        }
        return seeds;
    }

    /// <summary>How long to look for a cluster before founding one (zero: the first seed, Akka's own rule); null: never.</summary>
    public static TimeSpan? FoundAfter(NodeOptions o, IReadOnlyList<HostPort> seeds)
    {
        var rank = seeds.ToList().FindIndex(s => IsSelf(o, s));
        return rank < 0 ? null : FoundAfterEach * rank;
    }

    public static HostPort Self(NodeOptions o) => new(o.AdvertisedHost, o.EffectiveClusterPort);

    /// <summary>Whether a seed's cluster port accepts a TCP connection now (the process is up, whatever its cluster state).</summary>
    public static async Task<bool> AnswersAsync(HostPort seed, TimeSpan timeout)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(seed.Host.Trim('[', ']'), seed.Port, deadline.Token);
            return true;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException) { return false; }
    }

    /// <summary>Is <paramref name="seed"/> this node's own cluster address (as advertised, or as bound)?</summary>
    public static bool IsSelf(NodeOptions o, HostPort seed) =>
        seed.Port == o.EffectiveClusterPort && (Same(seed.Host, o.AdvertisedHost) || Same(seed.Host, o.BindHost) || o.Listen.Any(l => Same(seed.Host, l.Host)));

    private static bool Same(string a, string b) => string.Equals(a.Trim('[', ']'), b.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Joins the cluster by <see cref="SeedPlan"/>: asks the seeds, founds the cluster when its turn comes,
/// remembers every member it sees (for the next incarnation of the control plane), and says once why it is
/// not admitted when the seeds do not take it.
/// </summary>
public sealed class ClusterJoinActor : ReceiveActor, IWithTimers
{
    public static Props Props(NodeOptions o, ConcurrentDictionary<HostPort, byte> remembered, bool tls) =>
        Akka.Actor.Props.Create(() => new ClusterJoinActor(o, remembered, tls));

    private sealed record Found
    {
        public static readonly Found Instance = new();
    }
    private sealed record NotAdmitted
    {
        public static readonly NotAdmitted Instance = new();
    }
    private sealed record Probed(IReadOnlyList<HostPort> Up);
    private sealed record OthersProbed(IReadOnlyList<HostPort> Up);

    public static readonly TimeSpan HintAfter = TimeSpan.FromSeconds(15);
    /// <summary>Not a member this long while other seeds answer: the control plane starts again (past every founding turn of a 3-seed list).</summary>
    public static readonly TimeSpan StalledAfter = TimeSpan.FromSeconds(25);
    private readonly DateTime _started = DateTime.UtcNow;
    private bool _hinted;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly IReadOnlyList<HostPort> _seeds;
    private readonly NodeOptions _o;
    private readonly bool _tls;
    private bool _up;

    public ITimerScheduler Timers { get; set; } = null!;

    public ClusterJoinActor(NodeOptions o, ConcurrentDictionary<HostPort, byte> remembered, bool tls)
    {
        (_o, _tls) = (o, tls);
        _seeds = SeedPlan.Seeds(o, remembered.Keys.OrderBy(r => r.ToString(), StringComparer.Ordinal));
        Receive<ClusterEvent.MemberUp>(m =>
        {
            if (m.Member.Address.Host is { } host && m.Member.Address.Port is { } port) remembered[new HostPort(host, port)] = 0;
            if (!m.Member.Address.Equals(_cluster.SelfAddress)) return;
            _up = true;
            Timers.CancelAll();
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<JoinNow>(_ => { if (!InCluster) _cluster.JoinSeedNodes(_seeds.Select(Address)); });
        Receive<ClusterEvent.CurrentClusterState>(s =>
        {
            foreach (var m in s.Members.Where(m => m.Status == MemberStatus.Up && m.Address.Host is not null && m.Address.Port is not null))
                remembered[new HostPort(m.Address.Host!, m.Address.Port!.Value)] = 0;
        });
        Receive<Found>(_ =>
        {
            if (InCluster) return;
            var earlier = _seeds.TakeWhile(s => !SeedPlan.IsSelf(_o, s)).ToList();
            Task.WhenAll(earlier.Select(s => SeedPlan.AnswersAsync(s, TimeSpan.FromSeconds(1))))
                .PipeTo(Self, success: up => new Probed(earlier.Where((_, i) => up[i]).ToList()));
        });
        Receive<Probed>(m =>
        {
            if (InCluster) return;
            if (m.Up.Count > 0)
            {   // an earlier seed is there but has not let us in yet (restarting, or stalled associations): never found a second cluster
                _log.Info("cluster: {0} answers on its cluster port but has not taken this gateway in yet; asking again", string.Join(", ", m.Up));
                Timers.StartSingleTimer("found", Found.Instance, SeedPlan.FoundAfterEach);
                return;
            }
            _log.Warning("cluster: no core gateway listed before this one in the seeds ({0}) answers; founding the cluster", string.Join(", ", _seeds));
            _cluster.JoinSeedNodes([Address(SeedPlan.Self(_o)), .. _seeds.Where(s => !SeedPlan.IsSelf(_o, s)).Select(Address)]);
        });
        Receive<NotAdmitted>(_ =>
        {
            if (InCluster) return;
            var others = _seeds.Where(s => !SeedPlan.IsSelf(_o, s)).ToList();
            Task.WhenAll(others.Select(s => SeedPlan.AnswersAsync(s, TimeSpan.FromSeconds(1))))
                .PipeTo(Self, success: up => new OthersProbed(others.Where((_, i) => up[i]).ToList()));
        });
        Receive<OthersProbed>(m =>
        {
            if (InCluster) return;
            var waited = DateTime.UtcNow - _started;
            if (m.Up.Count == 0 || waited < StalledAfter)
            {   // said once; a seed may still be founding (10 s per rank) or the cluster still forming: ask again later
                if (!_hinted)
                    _log.Warning("cluster: not a member after {0:0}s: none of the seeds ({1}) has taken this gateway in{2}. The cluster admits only "
                                 + "a core certificate that the served mesh config declares as a core gateway and does not revoke (the refusing "
                                 + "gateway's log says which){3}", waited.TotalSeconds, string.Join(", ", _seeds),
                        m.Up.Count == 0 ? "" : $" though {string.Join(", ", m.Up)} answer{(m.Up.Count == 1 ? "s" : "")} on the cluster port",
                        m.Up.Count == 0 ? "; or no seed is reachable" : "");
                _hinted = true;
                Timers.StartSingleTimer("hint", NotAdmitted.Instance, m.Up.Count == 0 ? HintAfter : StalledAfter - waited + TimeSpan.FromMilliseconds(100));
                return;
            }
            // measured: after two gateways dialed each other at once, one direction of their association can stay dead
            // (the seed receives every InitJoin, its answers never arrive); a new incarnation associates afresh
            _log.Warning("cluster: still not a member after {0:0}s although {1} answer{2} on the cluster port; starting the control plane again "
                         + "(an association that stalled heals so; a refused certificate does not)", waited.TotalSeconds,
                string.Join(", ", m.Up), m.Up.Count == 1 ? "s" : "");
            Context.System.Terminate();
        });
    }

    /// <summary>A member already (joining, weakly up or up): never join or found anything else.</summary>
    private bool InCluster => _up || _cluster.SelfMember.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving;

    private Address Address(HostPort seed) => Akka.Actor.Address.Parse(MeshHocon.SeedAddress(seed, _tls));

    private sealed record JoinNow
    {
        public static readonly JoinNow Instance = new();
    }

    /// <summary>
    /// Core gateways started together would otherwise dial each other at the same instant, and such a first
    /// association can stall for good in one direction (ADR 0012): each waits a random moment first.
    /// </summary>
    public static TimeSpan FirstJoinJitter() => TimeSpan.FromMilliseconds(Random.Shared.Next(0, 1500));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
        Timers.StartSingleTimer("join", JoinNow.Instance, FirstJoinJitter());
        if (SeedPlan.FoundAfter(_o, _seeds) is { } after && after > TimeSpan.Zero) Timers.StartSingleTimer("found", Found.Instance, after);
        Timers.StartSingleTimer("hint", NotAdmitted.Instance, HintAfter);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
