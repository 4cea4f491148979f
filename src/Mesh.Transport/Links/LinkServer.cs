using System.Net;
using System.Net.Sockets;
using Mesh.Transport.Security;

namespace Mesh.Transport.Links;

/// <summary>
/// The link port of a core gateway: accepts connections, authenticates them, and adds them to the
/// registry. A connection that fails (wrong CA, wrong name, no certificate, plaintext) is logged and
/// closed; nothing else is disturbed.
/// </summary>
public sealed class LinkServer : IDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();

    public LinkServer(EndPoint address)
    {
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(address);
        _listener.Listen(512);
    }

    public EndPoint LocalEndPoint => _listener.LocalEndPoint!;

    public void Start(MeshIdentity identity, LinkRegistry registry, Action<string> warn) =>
        _ = AcceptLoopAsync(identity, registry, warn);

    private async Task AcceptLoopAsync(MeshIdentity identity, LinkRegistry registry, Action<string> warn)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; }
            catch (SocketException e) { warn($"link port: accept failed: {e.SocketErrorCode}"); continue; }
            _ = HandshakeAsync(socket);
        }

        async Task HandshakeAsync(Socket socket)
        {
            try { registry.Add(await LinkHandshake.AcceptAsync(identity, socket, LinkHandshake.DefaultTimeout, _stop.Token)); }
            catch (LinkException e) { warn(e.Message); }
            catch (OperationCanceledException) { }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}
