using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Mesh.Config;
using Mesh.Contracts.Logging;
using Mesh.Contracts.Metrics;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Metrics;
using Mesh.Gateway.Tunnel;
using Mesh.Transport.Links;

namespace Mesh.Gateway.Listener;

/// <summary>Stop accepting; the listener ends once its flows have ended (a route change never cuts a flow).</summary>
public sealed record StopListening
{
    public static readonly StopListening Instance = new();
}

/// <summary>
/// One entry: owns the accept loop on its listen address and hands each admitted client to a new
/// TunnelActor. A client from outside the entry's allow list, beyond its <c>max_connections</c>, or beyond
/// the gateway's own cap is closed at once (reset), counted by reason, and logged at most once per source a
/// minute. A new <see cref="ListenEntry"/> for the same address changes the lists and limits in place.
/// If the address cannot be bound (in use), it says so once and keeps trying.
/// While the entry's service is down the socket stays bound but stops listening, so a new client gets
/// what a local server that is down gives: connection refused (ECONNREFUSED), not a connection that closes.
/// </summary>
public sealed class ListenerActor : ReceiveActor, IWithTimers
{
    public static Props Props(ListenEntry entry, FlowContext ctx) => Akka.Actor.Props.Create(() => new ListenerActor(entry, ctx));

    private sealed record Accepted(Socket Socket) : INoSerializationVerificationNeeded;
    private sealed record Bind
    {
        public static readonly Bind Instance = new();
    }
    /// <summary>The entry's service went down or came back (<see cref="Health.ServiceHealthView.DownChanged"/>).</summary>
    private sealed record ServiceDownChanged
    {
        public static readonly ServiceDownChanged Instance = new();
    }

    private static readonly TimeSpan RebindEvery = TimeSpan.FromSeconds(5);
    private ListenEntry _entry;
    private IReadOnlyList<IPNetwork> _allow;
    private readonly FlowContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private CancellationTokenSource _accepting = new();
    private readonly LogLimiter _refusals = new(TimeSpan.FromMinutes(1));
    private Socket? _listener;
    private bool _paused;   // bound, not listening: the service is down
    private bool _draining;
    private string? _bindError;
    private readonly Action<string> _onDownChanged;
    private int _open;

    public ITimerScheduler Timers { get; set; } = null!;

    public ListenerActor(ListenEntry entry, FlowContext ctx)
    {
        (_entry, _ctx) = (entry, ctx);
        _allow = ParseAllow(entry);
        var self = Self;
        _onDownChanged = service => { if (service == entry.Service) self.Tell(ServiceDownChanged.Instance); };
        Receive<Bind>(_ => TryBind());
        Receive<ServiceDownChanged>(_ => FollowServiceHealth());
        Receive<Accepted>(m => Admit(m.Socket));
        Receive<Terminated>(_ =>
        {
            _open--;
            _ctx.ClientSlots.Release();
        });
        Receive<ListenEntry>(m =>
        {
            (_entry, _allow) = (m, ParseAllow(m));
            _log.Info("entry {0} for {1}: allow {2}, at most {3}", _entry.Listen, _entry.Service,
                _allow.Count == 0 ? "everyone" : string.Join(", ", _entry.Allow), Plural.Count(_entry.MaxConnections, "client"));
        });
        Receive<StopListening>(_ =>
        {
            Close();
            GatewayGauges.EntryGone(_entry.Listen, _entry.Service);
            _draining = true;   // a listener for the same entry may start while this one drains: the gauge is its
            _log.Info("entry {0} for {1}: no longer listening", _entry.Listen, _entry.Service);
            Become(Draining);
            StopWhenIdle();
        });
    }

    private static IReadOnlyList<IPNetwork> ParseAllow(ListenEntry entry) =>
        entry.Allow.Select(a => Networks.Parse(a)).Where(p => p.Item2 is null).Select(p => p.Item1).ToArray();

    /// <summary>The client goes to a TunnelActor, or is closed at once with a reason.</summary>
    private void Admit(Socket client)
    {
        var from = client.RemoteEndPoint as IPEndPoint;
        var address = from?.Address is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : from?.Address;   // a dual-stack socket's view of an IPv4 client
        var reason = address is null || !Networks.Admits(_allow, address) ? "not_allowed"
            : _open >= _entry.MaxConnections ? "max_connections"
            : !_ctx.ClientSlots.TryTake() ? "gateway_full"
            : null;
        if (reason is null)
        {
            _open++;
            Context.Watch(Context.ActorOf(TunnelActor.ForClient(client, _entry, _ctx)));
            return;
        }
        SocketTuning.Reset(client);
        MeshMeter.EntryRefusals.Add(1, new KeyValuePair<string, object?>("entry", _entry.Listen), new KeyValuePair<string, object?>("reason", reason));
        var source = address?.ToString() ?? "?";
        if (_refusals.ShouldLog($"{reason} {source}", Environment.TickCount64, out var held))
            _log.Warning("entry {0} for {1}: refused a client from {2}: {3}{4}", _entry.Listen, _entry.Service, source, reason switch
            {
                "not_allowed" => $"not in the entry's allow list ({string.Join(", ", _entry.Allow)})",
                "max_connections" => $"the entry serves {Plural.Count(_entry.MaxConnections, "client")} already (max_connections)",
                _ => $"the gateway serves {Plural.Count(_ctx.ClientSlots.Capacity, "client")} already (file descriptors kept for its links and control plane)",
            }, held > 0 ? $" ({held} more refused from there since the last line)" : "");
    }

    private void Draining()
    {
        Receive<Accepted>(m => m.Socket.Dispose());
        Receive<Terminated>(_ =>
        {
            _open--;
            _ctx.ClientSlots.Release();
            StopWhenIdle();
        });
        Receive<Bind>(_ => { });
        Receive<ServiceDownChanged>(_ => { });
        Receive<ListenEntry>(_ => { });
    }

    private void StopWhenIdle()
    {
        if (!Context.GetChildren().Any()) Context.Stop(Self);
    }

    /// <summary>Its children are flows: one that fails stops (never runs twice); the entry goes on.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => ChildFailure.FlowsStop();

    protected override void PreStart()
    {
        _ctx.Health.DownChanged += _onDownChanged;
        TryBind();
    }

    private string? ServiceDown => _ctx.Health.DownReason(_entry.Service);

    /// <summary>Stops listening when the service goes down and listens again when it is back.</summary>
    private void FollowServiceHealth()
    {
        if (_listener is null && !_paused) return;   // not bound yet: the next bind looks at the service's health
        var down = ServiceDown;
        if (down is not null && !_paused) Pause(down);
        else if (down is null && _paused) Resume();
    }

    /// <summary>
    /// Linux: shutdown() of a listening socket stops it listening (SYNs are answered with RST) and keeps
    /// its port bound, so no other program takes the entry's port while it pauses; listen() resumes.
    /// </summary>
    private void Pause(string down)
    {
        _accepting.Cancel();
        try { _listener!.Shutdown(SocketShutdown.Receive); }
        catch (SocketException)
        {   // a system where a listening socket cannot be shut down: give the port up until the service is back
            _listener!.Dispose();
            _listener = null;
        }
        _paused = true;
        GatewayGauges.EntryListening(_entry.Listen, _entry.Service, false);
        _log.Info("entry {0} for {1}: not listening while {1} is down, new clients get connection refused ({2})", _entry.Listen, _entry.Service, down);
    }

    private void Resume()
    {
        _paused = false;
        if (_listener is null) { TryBind(); return; }
        try { _listener.Listen(ListenBacklog); }
        catch (SocketException)
        {   // another program bound the port meanwhile (SO_REUSEADDR): bind again, saying so, until it is free
            _listener.Dispose();
            _listener = null;
            TryBind();
            return;
        }
        GatewayGauges.EntryListening(_entry.Listen, _entry.Service, true);
        _log.Info("entry {0} for {1}: listening again, {1} is up", _entry.Listen, _entry.Service);
        StartAccepting(_listener);
    }

    private void StartAccepting(Socket listener)
    {
        _accepting = new CancellationTokenSource();
        _ = AcceptLoopAsync(listener, Self, _accepting.Token);
    }

    private const int ListenBacklog = 4096;

    /// <summary>Binds exclusively (no SO_REUSEPORT: two processes must never share an entry's port).</summary>
    private void TryBind()
    {
        var endpoint = Endpoints.Parse(_entry.Listen);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint is DnsEndPoint dns ? new IPEndPoint(Dns.GetHostAddresses(dns.Host)[0], dns.Port) : endpoint);
            if (ServiceDown is null) socket.Listen(ListenBacklog);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            var error = $"entry {_entry.Listen} for {_entry.Service}: cannot listen: {e.SocketErrorCode}; retrying every {RebindEvery.TotalSeconds:0}s";
            if (error != _bindError) _log.Error(error);
            GatewayGauges.EntryListening(_entry.Listen, _entry.Service, false);
            _bindError = error;
            Timers.StartSingleTimer("bind", Bind.Instance, RebindEvery);
            return;
        }
        _listener = socket;
        _bindError = null;
        if (ServiceDown is { } down)
        {
            _paused = true;
            GatewayGauges.EntryListening(_entry.Listen, _entry.Service, false);
            _log.Info("entry {0} for {1}: bound, not listening while {1} is down, new clients get connection refused ({2})", _entry.Listen, _entry.Service, down);
            return;
        }
        _paused = false;
        GatewayGauges.EntryListening(_entry.Listen, _entry.Service, true);
        _log.Info("entry {0} for {1}: listening", _entry.Listen, _entry.Service);
        StartAccepting(socket);
    }

    private static async Task AcceptLoopAsync(Socket listener, IActorRef self, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { self.Tell(new Accepted(await listener.AcceptAsync(ct))); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; }
            catch (SocketException) when (ct.IsCancellationRequested) { return; }   // paused: shutdown() ends the pending accept
            catch (SocketException e) when (e.SocketErrorCode is SocketError.InvalidArgument) { return; }   // no longer listening
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {   // out of descriptors: the pending client waits in the backlog; do not spin on accept
                try { await Task.Delay(100, ct); } catch (OperationCanceledException) { return; }
            }
            catch (SocketException) { }   // a client that vanished between SYN and accept
        }
    }

    private void Close()
    {
        _accepting.Cancel();
        _listener?.Dispose();
        _listener = null;
    }

    protected override void PostStop()
    {
        _ctx.Health.DownChanged -= _onDownChanged;
        if (!_draining) GatewayGauges.EntryGone(_entry.Listen, _entry.Service);
        Close();
        for (; _open > 0; _open--) _ctx.ClientSlots.Release();
    }
}
