using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Flows;
using Mesh.Gateway.Tunnel;

namespace Mesh.Gateway.Listener;

/// <summary>Stop accepting; the listener ends once its flows have ended (a route change never cuts a flow).</summary>
public sealed record StopListening
{
    public static readonly StopListening Instance = new();
}

/// <summary>
/// One entry: owns the accept loop on its listen address and hands each client to a new TunnelActor.
/// If the address cannot be bound (in use), it says so once and keeps trying.
/// </summary>
public sealed class ListenerActor : ReceiveActor, IWithTimers
{
    public static Props Props(ListenEntry entry, FlowContext ctx) => Akka.Actor.Props.Create(() => new ListenerActor(entry, ctx));

    private sealed record Accepted(Socket Socket) : INoSerializationVerificationNeeded;
    private sealed record Bind
    {
        public static readonly Bind Instance = new();
    }

    private static readonly TimeSpan RebindEvery = TimeSpan.FromSeconds(5);
    private readonly ListenEntry _entry;
    private readonly FlowContext _ctx;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private string? _bindError;

    public ITimerScheduler Timers { get; set; } = null!;

    public ListenerActor(ListenEntry entry, FlowContext ctx)
    {
        _entry = entry;
        _ctx = ctx;
        Receive<Bind>(_ => TryBind());
        Receive<Accepted>(m => Context.Watch(Context.ActorOf(TunnelActor.ForClient(m.Socket, _entry, _ctx))));
        Receive<Terminated>(_ => { });
        Receive<StopListening>(_ =>
        {
            Close();
            _log.Info("entry {0} for {1}: no longer listening", _entry.Listen, _entry.Service);
            Become(Draining);
            StopWhenIdle();
        });
    }

    private void Draining()
    {
        Receive<Accepted>(m => m.Socket.Dispose());
        Receive<Terminated>(_ => StopWhenIdle());
        Receive<Bind>(_ => { });
    }

    private void StopWhenIdle()
    {
        if (!Context.GetChildren().Any()) Context.Stop(Self);
    }

    protected override void PreStart() => TryBind();

    private void TryBind()
    {
        var endpoint = Endpoints.Parse(_entry.Listen);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint is DnsEndPoint dns ? new IPEndPoint(Dns.GetHostAddresses(dns.Host)[0], dns.Port) : endpoint);
            socket.Listen(4096);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            var error = $"entry {_entry.Listen} for {_entry.Service}: cannot listen: {e.SocketErrorCode}; retrying every {RebindEvery.TotalSeconds:0}s";
            if (error != _bindError) _log.Error(error);
            _bindError = error;
            Timers.StartSingleTimer("bind", Bind.Instance, RebindEvery);
            return;
        }
        _listener = socket;
        _bindError = null;
        _log.Info("entry {0} for {1}: listening", _entry.Listen, _entry.Service);
        _ = AcceptLoopAsync(socket, Self, _stop.Token);
    }

    private static async Task AcceptLoopAsync(Socket listener, IActorRef self, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { self.Tell(new Accepted(await listener.AcceptAsync(ct))); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; }
            catch (SocketException) { }   // a client that vanished between SYN and accept
        }
    }

    private void Close()
    {
        _stop.Cancel();
        _listener?.Dispose();
        _listener = null;
    }

    protected override void PostStop() => Close();
}
