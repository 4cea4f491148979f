using System.Net;
using System.Net.Sockets;
using Mesh.Contracts.Logging;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Transport.Links;

/// <summary>What the link port does with what arrives, and where it tells what went wrong.</summary>
/// <param name="Control">an admitted edge opened its control channel (the handler owns the connection)</param>
/// <param name="Warn">one log line (already rate-limited)</param>
/// <param name="Failed">a handshake failed, by kind (counted in the metrics)</param>
public sealed record LinkServerHooks(Action<LinkConnection> Control, Action<string> Warn, Action<string> Failed);

/// <summary>
/// The link port: accepts connections, authenticates them, and adds them to the registry (pooled
/// connections) or hands them over (an edge's control channel). A connection that fails (wrong CA, wrong
/// name, not declared, revoked, plaintext, silent) is closed; nothing else is disturbed. A flood cannot
/// starve real gateways: a connection must send its TLS ClientHello within <see cref="FirstByteWithin"/>
/// (real gateways send it at once) before it may take one of <see cref="MaxHandshakes"/> handshake slots
/// (waiting up to <see cref="SlotWait"/> for one: a burst of flows dials many at once),
/// and failures are logged at most once per source and kind a minute (and counted).
/// </summary>
public sealed class LinkServer : IDisposable
{
    public static readonly TimeSpan FirstByteWithin = TimeSpan.FromSeconds(2);
    public const int MaxHandshakes = 128;
    /// <summary>How long a connection that spoke waits for a handshake slot (a burst of real dials queues; a flood is reset).</summary>
    public static readonly TimeSpan SlotWait = TimeSpan.FromSeconds(3);

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _handshakes = new(MaxHandshakes, MaxHandshakes);
    private readonly LogLimiter _logs = new(TimeSpan.FromMinutes(1));

    /// <summary>Binds <paramref name="address"/> exclusively: a port another process holds is an error, never shared.</summary>
    public LinkServer(EndPoint address)
    {
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.AddressFamily == AddressFamily.InterNetworkV6) _listener.DualMode = IPAddress.IPv6Any.Equals((address as IPEndPoint)?.Address);
        try
        {
            _listener.Bind(address);
            _listener.Listen(1024);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
    }

    public EndPoint LocalEndPoint => _listener.LocalEndPoint!;

    public void Start(MeshIdentity identity, LinkRegistry registry, MeshTrust? trust, LinkServerHooks hooks) =>
        _ = AcceptLoopAsync(identity, registry, trust, hooks);

    /// <summary>The older form, for tests of the handshake alone: admits every mesh certificate, logs every failure.</summary>
    public void Start(MeshIdentity identity, LinkRegistry registry, Action<string> warn) =>
        Start(identity, registry, trust: null, new LinkServerHooks(c => _ = c.DisposeAsync(), warn, _ => { }));

    private async Task AcceptLoopAsync(MeshIdentity identity, LinkRegistry registry, MeshTrust? trust, LinkServerHooks hooks)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                Fail(hooks, "accept", "accept", $"link port: accept failed: {e.SocketErrorCode}");
                continue;
            }
            _ = HandshakeAsync(socket);
        }

        async Task HandshakeAsync(Socket socket)
        {
            var source = (socket.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "?";
            if (!await SpeaksFirstAsync(socket))
            {
                socket.Dispose();
                if (_stop.IsCancellationRequested) return;   // the gateway stops: the peer is not to blame (and the log has ended)
                Fail(hooks, "silent", source, $"link port: connections from {source} sent nothing within {FirstByteWithin.TotalSeconds:0}s; closed");
                return;
            }
            if (!await _handshakes.WaitAsync(SlotWait))
            {
                SocketTuning.Reset(socket);
                Fail(hooks, "busy", source, $"link port: {MaxHandshakes} handshakes in progress; refused a connection from {source}");
                return;
            }
            try
            {
                var link = await LinkHandshake.AcceptAsync(identity, socket, LinkHandshake.DefaultTimeout, _stop.Token, trust);
                if (link.Purpose == LinkPurpose.Control)
                {
                    registry.Track(link);
                    hooks.Control(link);
                }
                else registry.Add(link);
            }
            catch (LinkException e) { Fail(hooks, e.Kind, source, e.Message); }
            catch (OperationCanceledException) { }
            finally { _handshakes.Release(); }
        }
    }

    /// <summary>Waits (without a buffer) until the peer sends its first bytes: a TLS client speaks first.</summary>
    private async Task<bool> SpeaksFirstAsync(Socket socket)
    {
        using var first = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        first.CancelAfter(FirstByteWithin);
        try
        {
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, first.Token);
            return socket.Available > 0;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return false; }
    }

    private void Fail(LinkServerHooks hooks, string kind, string source, string message)
    {
        hooks.Failed(kind);
        if (_logs.ShouldLog($"{kind} {source}", Environment.TickCount64, out var held))
            hooks.Warn(held > 0 ? $"{LogText.Safe(message, 400)} (and {held} more like it from {source} in the last minute)" : LogText.Safe(message, 400));
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}
