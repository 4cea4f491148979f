using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Mesh.Transport.Protocol;
using Mesh.Transport.Security;

namespace Mesh.Transport.Links;

/// <summary>A link could not be opened; the message says why in words fit for a log line.</summary>
public sealed class LinkException(string message) : Exception(message);

/// <summary>
/// Opens links: TCP, then TLS 1.3 with certificates from the mesh CA on both sides, then Hello/HelloAck.
/// The dialer checks that the peer's certificate names the gateway it meant to reach; the acceptor checks
/// that the dialer's certificate names the gateway its Hello claims to be.
/// </summary>
public static class LinkHandshake
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public static async Task<LinkConnection> DialAsync(MeshIdentity identity, string peer, EndPoint address, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);   // dual-mode: IPv4, IPv6 or a name
        SslStream? tls = null;
        try
        {
            SocketTuning.ForLink(socket);
            await socket.ConnectAsync(address, deadline.Token);
            tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(identity.ClientOptions(peer), deadline.Token);
            await FrameIO.WriteAsync(tls, new Hello(FrameCodec.ProtocolVersion, identity.Name), deadline.Token);
            var reply = await FrameIO.ReadAsync(tls, new byte[FrameCodec.MaxFrame], deadline.Token);
            if (reply is null) throw new LinkException($"{peer} at {address} closed the link after TLS: it rejected this gateway's certificate (is it issued by the mesh CA and named '{identity.Name}'?)");
            if (reply is not HelloAck ack) throw new LinkException($"{peer} at {address} answered Hello with {reply.Type}");
            if (ack.Version != FrameCodec.ProtocolVersion) throw new LinkException($"{peer} speaks link protocol {ack.Version}, this gateway {FrameCodec.ProtocolVersion}");
            var link = new LinkConnection(socket, tls, peer, dialed: true);
            return link;
        }
        catch (Exception e)
        {
            if (tls is not null) await tls.DisposeAsync(); else socket.Dispose();
            throw e switch
            {
                LinkException => e,
                OperationCanceledException when !ct.IsCancellationRequested => new LinkException($"dialing {peer} at {address}: no link within {timeout.TotalSeconds:0.#}s"),
                AuthenticationException => new LinkException($"dialing {peer} at {address}: TLS refused ({Describe(e)}); is its certificate from this mesh's CA and named '{peer}'?"),
                SocketException s => new LinkException($"dialing {peer} at {address}: {s.SocketErrorCode}"),
                IOException or ProtocolException => new LinkException($"dialing {peer} at {address}: {Describe(e)}"),
                _ => e,
            };
        }
    }

    /// <summary>Runs the accepting side's handshake on a fresh socket; throws <see cref="LinkException"/> with the reason.</summary>
    public static async Task<LinkConnection> AcceptAsync(MeshIdentity identity, Socket socket, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        SocketTuning.ForLink(socket);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(identity.ServerOptions(), deadline.Token);
            var certName = tls.RemoteCertificate is System.Security.Cryptography.X509Certificates.X509Certificate2 c ? MeshPki.NameOf(c) : null;
            var frame = await FrameIO.ReadAsync(tls, new byte[FrameCodec.MaxFrame], deadline.Token);
            if (frame is not Hello hello) throw new LinkException($"link from {remote}: expected Hello, got {frame?.Type.ToString() ?? "end of stream"}");
            if (hello.Gateway != certName) throw new LinkException($"link from {remote}: says it is '{hello.Gateway}' but its certificate names '{certName}'");
            if (hello.Version != FrameCodec.ProtocolVersion) throw new LinkException($"link from {hello.Gateway} at {remote}: speaks link protocol {hello.Version}, this gateway {FrameCodec.ProtocolVersion}");
            await FrameIO.WriteAsync(tls, new HelloAck(FrameCodec.ProtocolVersion, identity.Name), deadline.Token);
            return new LinkConnection(socket, tls, hello.Gateway, dialed: false);
        }
        catch (Exception e)
        {
            await tls.DisposeAsync();
            throw e switch
            {
                LinkException => e,
                OperationCanceledException when !ct.IsCancellationRequested => new LinkException($"link from {remote}: no handshake within {timeout.TotalSeconds:0.#}s"),
                AuthenticationException => new LinkException($"link from {remote} rejected: TLS handshake failed ({Describe(e)}); not a gateway of this mesh"),
                IOException or ProtocolException or SocketException => new LinkException($"link from {remote} rejected: {Describe(e)}"),
                _ => e,
            };
        }
    }

    private static string Describe(Exception e) => e.InnerException is { } inner ? $"{e.Message} {inner.Message}".Trim() : e.Message;
}

/// <summary>Socket options for links and flows.</summary>
public static class SocketTuning
{
    /// <summary>Links: no Nagle (small frames, interactive flows), and TCP keepalive to find dead NAT mappings.</summary>
    public static void ForLink(Socket s)
    {
        s.NoDelay = true;
        s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 10);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 3);
        s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
    }

    public static void ForFlow(Socket s) => s.NoDelay = true;

    /// <summary>Close with RST, not FIN: a broken flow must not look like a clean end to the program on this socket.</summary>
    public static void ResetOnClose(Socket s) => s.LingerState = new LingerOption(true, 0);
}
