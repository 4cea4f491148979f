using Akka.Actor;
using Akka.Event;
using Mesh.Config;
using Mesh.Contracts.Health;
using Mesh.Contracts.Logging;
using Mesh.Contracts.Routing;
using Mesh.Contracts.Wire;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Link;
using Mesh.Gateway.Naming;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Gateway.Control;

/// <summary>
/// An edge gateway's channel to the director (ADR 0010): one control connection at a time to a core gateway,
/// over the link protocol (mutual TLS, the edge's own outbound connection: works behind NAT). The core
/// gateway stamps what the edge sends with the name its certificate proved and carries it to the director.
/// Candidates are the core gateways of the last route table, then the --join addresses (the first table
/// comes through those; SRV names among them, dns:NAME, are looked up again before every dial). A channel that goes silent is replaced by one to the next candidate, so does one
/// the gateway finds stuck (its requests unanswered).
/// </summary>
public sealed class ControlLinkActor : ReceiveActor, IWithTimers
{
    public static Props Props(JoinList join, FlowContext ctx, IActorRef gateway) =>
        Akka.Actor.Props.Create(() => new ControlLinkActor(join, ctx, gateway));

    /// <summary>Send a message to the director (dropped while no channel is up: the gateway asks again).</summary>
    public sealed record ToDirector(object Message);
    /// <summary>The gateway's requests go unanswered: try another core gateway.</summary>
    public sealed record SwitchCore(string Reason);
    /// <summary>The gateway's link to <paramref name="Peer"/> went down: a channel through it is likely dead too.</summary>
    public sealed record LinkDown(string Peer);

    private sealed record Connect
    {
        public static readonly Connect Instance = new();
    }
    private sealed record KeepAlive
    {
        public static readonly KeepAlive Instance = new();
    }
    private sealed record Connected(ControlChannel Channel, string Address) : INoSerializationVerificationNeeded;
    /// <param name="Refused">the core gateway answered and refused this gateway, saying why (waiting does not heal it)</param>
    private sealed record ConnectFailed(string Via, string Error, bool Refused);
    private sealed record Lost(ControlChannel Channel, string Reason) : INoSerializationVerificationNeeded;
    private sealed record JoinResolved(JoinAddresses Result);

    private readonly JoinList _join;
    private IReadOnlyList<HostPort> _joinAddresses;
    private RouteTable? _table;
    private string? _joinProblem;
    private readonly FlowContext _ctx;
    private readonly IActorRef _gateway;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private IReadOnlyList<(string? Name, string Address)> _cores = [];
    private ControlChannel? _channel;
    private string? _via;
    private int _next, _failures;
    private bool _connecting;
    private readonly DialFailureLog _dialFailures = new();
    private DateTimeOffset? _lostAt;

    public ITimerScheduler Timers { get; set; } = null!;

    public ControlLinkActor(JoinList join, FlowContext ctx, IActorRef gateway)
    {
        (_join, _ctx, _gateway, _joinAddresses) = (join, ctx, gateway, join.Fixed);
        Receive<Connect>(_ => TryConnect());
        Receive<JoinResolved>(OnJoinResolved);
        Receive<Connected>(OnConnected);
        Receive<ConnectFailed>(OnConnectFailed);
        Receive<Lost>(m =>
        {
            if (m.Channel != _channel) return;
            _channel = null;
            _lostAt = DateTimeOffset.UtcNow;
            _dialFailures.OutageSaid();
            _log.Warning("control channel to the director through {0} lost ({1}); trying the next core gateway", _via, m.Reason);
            _next++;
            TryConnect();
        });
        Receive<KeepAlive>(_ => _channel?.KeepAliveAsync(ping: true));
        Receive<ToDirector>(m =>
        {
            if (_channel is { } c) _ = c.SendAsync(WireCodec.Frame(m.Message));
        });
        Receive<SwitchCore>(m =>
        {
            if (_channel is not { } c) return;
            _log.Warning("control channel through {0}: {1}; switching to the next core gateway", _via, m.Reason);
            _ = c.DisposeAsync().AsTask();   // Lost follows
        });
        Receive<LinkDown>(m =>
        {   // move at once rather than after the channel's own silence (7 s): the director hears of the lost link sooner
            if (_channel is { } c && c.Peer == m.Peer) Self.Tell(new SwitchCore($"the link to {m.Peer} is down"));
        });
        Receive<RouteTableApplied>(m => _cores = Candidates(_table = m.Table));
    }

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(RouteTableApplied));
        _cores = Candidates(null);
        Timers.StartPeriodicTimer("keep-alive", KeepAlive.Instance, Liveness.PingEvery);
        TryConnect();
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        if (_channel is { } c) _ = c.DisposeAsync().AsTask();
    }

    /// <summary>The table's core gateways (by name: their certificates must match), then the --join addresses.</summary>
    private IReadOnlyList<(string? Name, string Address)> Candidates(RouteTable? table)
    {
        var named = (table?.Gateways ?? []).Where(g => g.IsCore && g.Name != _ctx.Self)
            .SelectMany(g => g.Links.Select(a => ((string?)g.Name, a))).ToList();
        var joins = _joinAddresses.Select(j => j.ToString()).Where(a => named.All(n => n.a != a)).Select(a => ((string?)null, a));
        return [.. named, .. joins];
    }

    /// <summary>Dials the next candidate; with SRV names in --join, looks them up first (every attempt: a core gateway may have moved).</summary>
    private void TryConnect()
    {
        if (_connecting || _channel is not null) return;
        _connecting = true;
        if (_join.HasNames) _join.ResolveAsync(_stop.Token).PipeTo(Self, success: r => new JoinResolved(r),
            failure: e => new JoinResolved(new(_joinAddresses, e.GetBaseException().Message)));
        else Dial();
    }

    private void OnJoinResolved(JoinResolved m)
    {
        if (m.Result.Problem != _joinProblem && m.Result.Problem is { } problem) _log.Warning("--join: {0}", problem);
        _joinProblem = m.Result.Problem;
        _joinAddresses = m.Result.Addresses;
        _cores = Candidates(_table);
        Dial();
    }

    private void Dial()
    {
        if (_channel is not null) { _connecting = false; return; }
        if (_cores.Count == 0)
        {   // no table yet and no address from DNS: ask again later
            _connecting = false;
            Timers.StartSingleTimer("connect", Connect.Instance, LinkActor.Backoff(++_failures));
            return;
        }
        var (name, address) = _cores[_next % _cores.Count];
        LinkHandshake.DialAsync(_ctx.Identity, name, Endpoints.Parse(address), FlowContext.LinkDialTimeout, _stop.Token, _ctx.Trust, LinkPurpose.Control)
            .PipeTo(Self, success: l => new Connected(new ControlChannel(l), address),
                failure: e => new ConnectFailed(name is null ? address : $"{name} ({address})", e.GetBaseException().Message,
                    e.GetBaseException() is LinkException { Refusal: not AdmissionRefusal.None }));
    }

    private void OnConnected(Connected m)
    {
        _connecting = false;
        (_channel, _via, _failures) = (m.Channel, $"{m.Channel.Peer} ({m.Address})", 0);
        _dialFailures.Connected();
        _ctx.Links.Track(m.Channel.Link);
        var self = Self;
        var gateway = _gateway;
        var channel = m.Channel;
        channel.Start(bytes => Deliver(bytes, channel, gateway, self));
        channel.Ended.ContinueWith(t => self.Tell(new Lost(channel, t.Result)), TaskScheduler.Default);
        var outage = _lostAt is { } at ? $" after {LogText.Duration(DateTimeOffset.UtcNow - at)}" : "";
        _lostAt = null;
        _log.Info("control channel to the director up through {0}{1}", _via, outage);
        _gateway.Tell(DirectorReachable.Instance);
    }

    /// <summary>Answers from the director go to the gateway; anything a core gateway may not send closes the channel.</summary>
    private static Task Deliver(ReadOnlyMemory<byte> bytes, ControlChannel channel, IActorRef gateway, IActorRef self)
    {
        object message;
        try { message = WireCodec.Unframe(bytes.Span); }
        catch (WireException e) { return Close(e.Message); }
        if (message is not (RouteTable or RouteTableDelta or RouteTableUnchanged or RouteTableUnavailable or LinkReportReceived or HealthReportReceived))
            return Close($"unexpected {message.GetType().Name}");
        gateway.Tell(message);
        return Task.CompletedTask;

        Task Close(string why)
        {
            self.Tell(new Lost(channel, LogText.Safe(why)));
            return channel.DisposeAsync().AsTask();
        }
    }

    private void OnConnectFailed(ConnectFailed m)
    {
        _connecting = false;
        _failures++;
        _next++;
        // one warning per spell (the dials alternate between core gateways, each failing its own way), and one per
        // refusal reason (an edge removed from the config, a revoked certificate: the operator must act); the rest is debug
        if (_dialFailures.Failed(m.Error, m.Refused)) _log.Warning("control channel to the director: {0}; retrying", m.Error);
        else _log.Debug("control channel to the director: {0}; retrying", m.Error);
        Timers.StartSingleTimer("connect", Connect.Instance, LinkActor.Backoff(_failures));
    }
}

/// <summary>An edge's <see cref="IDirectorChannel"/>: its messages go over the control channel (<see cref="ControlLinkActor"/>).</summary>
public sealed class LinkDirectorChannel : IDirectorChannel
{
    private volatile IActorRef? _control;

    public void Attach(IActorRef control) => _control = control;

    public void Send(object message) => _control?.Tell(new ControlLinkActor.ToDirector(message));

    public void RestartControlPlane(string reason) => _control?.Tell(new ControlLinkActor.SwitchCore(reason));
}
