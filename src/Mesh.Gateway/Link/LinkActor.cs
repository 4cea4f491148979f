using Mesh.Config;
using Mesh.Contracts.Logging;
using Mesh.Contracts.Metrics;
using Akka.Actor;
using Akka.Event;
using Mesh.Gateway.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Security;

namespace Mesh.Gateway.Link;

/// <summary>The peer's addresses or the pool size changed in the route table.</summary>
/// <param name="Shortcut">a direct link to another edge (LinkActor's remarks)</param>
/// <param name="MuxSessions">multiplexed sessions to keep (link mode mux; <see cref="MuxKeeper"/>), 0 in link mode pool</param>
public sealed record LinkTargetChanged(IReadOnlyList<string> Addresses, int PoolSize, bool Shortcut = false, int MuxSessions = 0);

/// <summary>Told to the gateway when the link to <paramref name="Peer"/> is found up or down (it reports links to the director).</summary>
public sealed record LinkStateChanged(string Peer, bool Up);

/// <summary>
/// Keeps idle links warm to one peer this gateway can dial (<c>pool_size</c>, more during a burst of
/// claims: PoolDemand): dials, replaces each connection that is claimed or lost, and retries forever
/// with capped exponential backoff and jitter. An outage is two lines: "link to X lost (why); redialing"
/// when it starts and "link to X up again after 12s (address)" when it ends; the dials that fail in between
/// are debug lines (a link that was never up says its first failure, as a warning), except a refusal by the
/// peer ("core1 at … refused this gateway: why"), said once per reason: waiting does not heal it.
/// A shortcut (a direct link to another edge that accepts links) may never work from here (its address is
/// on another site's LAN): until it has been up once, its failure is one INFO line and it is tried every
/// <see cref="ShortcutRetry"/>; flows meanwhile go through a core gateway. Once up, it heals as any link.
/// </summary>
public sealed class LinkActor : ReceiveActor, IWithTimers
{
    public static Props Props(string peer, LinkTargetChanged target, FlowContext ctx) =>
        Akka.Actor.Props.Create(() => new LinkActor(peer, target, ctx));

    /// <summary>How often a shortcut that has never worked is tried again.</summary>
    public static readonly TimeSpan ShortcutRetry = TimeSpan.FromSeconds(30);

    private sealed record Replenish
    {
        public static readonly Replenish Instance = new();
    }
    private sealed record Claimed
    {
        public static readonly Claimed Instance = new();
    }
    private sealed record Returned
    {
        public static readonly Returned Instance = new();
    }
    private sealed record Trim
    {
        public static readonly Trim Instance = new();
    }
    private sealed record Dialed(LinkConnection Link, string Address) : INoSerializationVerificationNeeded;
    /// <param name="Refused">the peer answered and refused this gateway, saying why (not a network failure: waiting does not heal it)</param>
    private sealed record DialFailed(string Address, string Error, bool Refused);
    private sealed record ConnectionLost(string Reason);

    /// <summary>A connection heard from this recently answered one of the last two pings: the link works through it.</summary>
    private static readonly TimeSpan AliveWithin = Liveness.PingEvery * 2;

    public static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200), MaxRetry = TimeSpan.FromSeconds(3);

    private readonly string _peer;
    private readonly FlowContext _ctx;
    private readonly LinkPool _pool;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private readonly Action<LinkPool, string?> _onGone;
    private readonly Action<LinkPool> _onReturned;
    private IReadOnlyList<string> _addresses;
    private readonly PoolDemand _demand;
    private readonly MuxKeeper _mux;
    private int _muxSessions;
    private int _inFlight, _failures, _next;
    private bool _up, _everUp;
    private bool _shortcut;
    private bool? _told;
    /// <summary>Since when the link is down after it was up (Environment.TickCount64), for the line that says it is back.</summary>
    private long? _lostAt;
    private readonly DialFailureLog _dialFailures = new();

    public ITimerScheduler Timers { get; set; } = null!;

    public LinkActor(string peer, LinkTargetChanged target, FlowContext ctx)
    {
        (_peer, _addresses, _ctx, _shortcut) = (peer, target.Addresses, ctx, target.Shortcut);
        _demand = new PoolDemand(target.PoolSize);
        _muxSessions = target.MuxSessions;
        var log = _log;
        _mux = new MuxKeeper(peer, ctx, line => log.Debug(line));
        _pool = ctx.Links.Pool(peer);
        var self = Self;
        _onGone = (_, lostBecause) => self.Tell(lostBecause switch
        {
            null => Claimed.Instance,
            LinkPool.SurplusClosed => Replenish.Instance,
            _ => new ConnectionLost(lostBecause),
        });
        _onReturned = _ => self.Tell(Returned.Instance);

        Receive<Replenish>(_ => Fill());
        Receive<Claimed>(_ =>
        {
            _demand.Claimed(Environment.TickCount64);
            Fill();
        });
        Receive<Returned>(_ => _demand.Returned(Environment.TickCount64));
        Receive<Trim>(_ => TrimSurplus());
        Receive<ConnectionLost>(m =>
        {
            LostUnlessAlive(m.Reason);
            Fill();
        });
        Receive<Dialed>(m =>
        {
            _inFlight--;
            if (!_up && _lostAt is { } lost)
                _log.Info("link to {0} up again after {1} ({2})", _peer, LogText.Duration(TimeSpan.FromMilliseconds(Environment.TickCount64 - lost)), m.Address);
            else if (!_up) _log.Info("link to {0} up ({1})", _peer, m.Address);
            (_up, _everUp, _failures, _lostAt) = (true, true, 0, null);
            _dialFailures.Connected();
            TellGateway();
            _ctx.Links.Add(m.Link);
            Fill();
        });
        Receive<DialFailed>(m =>
        {
            MeshMeter.DialFailures.Add(1, new KeyValuePair<string, object?>("peer", _peer));
            _inFlight--;
            _failures++;
            _next++;
            // a refusal ("no route map yet" from an edge that just started) is no sign the address cannot work
            var untried = _shortcut && !_everUp && !m.Refused;
            if (_up) LostUnlessAlive($"dialing failed: {m.Error}");   // the loss, if it is one, says the error
            else if (untried)
            {   // likely an address of another site's LAN: not a fault
                if (_dialFailures.Failed(m.Error, refused: false))
                    _log.Info("direct link to {0}: {1}; flows to {0} go through a core gateway, trying it again every {2}", _peer, m.Error,
                        LogText.Duration(ShortcutRetry));
                else _log.Debug("direct link to {0}: {1}; retrying", _peer, m.Error);
            }
            else if (_dialFailures.Failed(m.Error, m.Refused)) _log.Warning("link to {0}: {1}; retrying", _peer, m.Error);
            else _log.Debug("link to {0}: {1}; retrying", _peer, m.Error);
            TellGateway();
            // another address of the peer (a gateway with two public addresses) is tried at once; the backoff
            // comes after every address failed in turn
            if (_addresses.Count > 1 && _next % _addresses.Count != 0) Self.Tell(Replenish.Instance);
            else Timers.StartSingleTimer("retry", Replenish.Instance, untried ? ShortcutRetry : Backoff(_failures / Math.Max(1, _addresses.Count)));
        });
        Receive<LinkTargetChanged>(m =>
        {
            (_addresses, _demand.PoolSize, _shortcut, _muxSessions) = (m.Addresses, m.PoolSize, m.Shortcut, m.MuxSessions);
            _mux.Target(_addresses, _muxSessions);
            Fill();
        });
    }

    /// <summary>
    /// A connection was lost or a dial failed: the link is down, until a redial succeeds (which logs "up again after" and how long it was down),
    /// unless a connection dialed to the peer still answers pings. Every pooled connection goes silent at
    /// once in an outage: the first loss says so, on one line, whichever comes first (a silent connection
    /// closed, or a dial that fails); an old connection lost after a redial succeeded, or one failed dial
    /// beside working connections, says nothing about the link. (A quiet spell after each logged loss once
    /// stood in for this, and kept a link "up" through a second outage that began within it.)
    /// </summary>
    private void LostUnlessAlive(string reason)
    {
        if (!_up || _pool.DialedAlive(AliveWithin)) return;
        _log.Warning("link to {0} lost ({1}); redialing", _peer, reason);
        (_up, _lostAt) = (false, Environment.TickCount64);
        _dialFailures.OutageSaid();
        TellGateway();
    }

    /// <summary>
    /// The gateway hears of each change of state; a link that has never been up counts as down only after
    /// a few failed dials (a gateway that starts would otherwise report every link down for a moment).
    /// </summary>
    private void TellGateway()
    {
        if (_told == _up || (!_up && _told is null && _failures < 3)) return;
        _told = _up;
        Context.Parent.Tell(new LinkStateChanged(_peer, _up));
    }

    protected override void PreStart()
    {
        _pool.DialedConnectionGone += _onGone;
        _pool.DialedConnectionReturned += _onReturned;
        Timers.StartPeriodicTimer("trim", Trim.Instance, PoolDemand.QuietBeforeTrim);
        _mux.Target(_addresses, _muxSessions);
        Fill();
    }

    private void TrimSurplus()
    {
        var surplus = _demand.Surplus(Environment.TickCount64, _pool.DialedIdleCount);
        if (surplus > 0) _ = _pool.CloseDialedSurplusAsync(surplus);
    }

    private void Fill()
    {
        _pool.DialedIdleCap = _demand.ReturnCap(Environment.TickCount64);   // the one place the cap is decided
        var wanted = _demand.DialsToStart(Environment.TickCount64, _pool.DialedIdleCount, _inFlight);
        if (_failures > 0) wanted = Math.Min(wanted, 1 - _inFlight);   // while failing, one dial at a time
        if (_addresses.Count == 0) return;
        for (var i = 0; i < wanted; i++)
        {
            var address = _addresses[_next % _addresses.Count];
            _inFlight++;
            MeshMeter.Dials.Add(1, new KeyValuePair<string, object?>("peer", _peer));
            LinkHandshake.DialAsync(_ctx.Identity, _peer, Endpoints.Parse(address), FlowContext.LinkDialTimeout, _stop.Token, _ctx.Trust)
                .PipeTo(Self, success: l => new Dialed(l, address), failure: e => new DialFailed(address, e.GetBaseException().Message,
                    e.GetBaseException() is LinkException { Refusal: not AdmissionRefusal.None }));
        }
    }

    /// <summary>200 ms, doubling, capped at 3 s, each with up to 50% jitter: back within seconds after any outage.</summary>
    public static TimeSpan Backoff(int failures)
    {
        var capped = Math.Min(FirstRetry.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 10)), MaxRetry.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() * 0.5));
    }

    protected override void PostStop()
    {
        _pool.DialedConnectionGone -= _onGone;
        _pool.DialedConnectionReturned -= _onReturned;
        _stop.Cancel();
        _mux.Dispose();
        _ = _pool.CloseAllAsync();
    }
}
