using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Mesh.Transport.Protocol;
using System.Security.Cryptography.X509Certificates;
using Mesh.Transport.Security;

namespace Mesh.Transport.Links;

/// <summary>A link could not be opened; the message says why in words fit for a log line.</summary>
public sealed class LinkException(string message) : Exception(message)
{
    /// <summary>Set when the accepting side refused the certificate's holder (not declared, revoked, ...).</summary>
    public AdmissionRefusal Refusal { get; init; }

    /// <summary>A short label for the metrics (tls, timeout, protocol, name_mismatch, or the refusal).</summary>
    public string Kind
    {
        get => _kind ?? (Refusal == AdmissionRefusal.None ? "other" : Refusal.ToString().ToLowerInvariant());
        init => _kind = value;
    }

    private readonly string? _kind;
}

/// <summary>
/// Opens links: TCP, then TLS 1.3 with certificates from the mesh CA on both sides, then Hello/HelloAck.
/// The dialer checks that the peer's certificate names the gateway it meant to reach; the acceptor checks
/// that the dialer's certificate names the gateway its Hello claims to be.
/// </summary>
public static class LinkHandshake
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Dials <paramref name="address"/> and runs the dialer's side of the handshake.</summary>
    /// <param name="peer">the gateway we mean to reach (its certificate must name it); null for an edge's first dial to a
    /// --join address, where any core gateway of the mesh will do (its certificate must have the core role)</param>
    /// <param name="trust">who may be linked to: a peer the served map does not declare, or revoked, is refused here too</param>
    public static async Task<LinkConnection> DialAsync(MeshIdentity identity, string? peer, EndPoint address, TimeSpan timeout, CancellationToken ct,
        MeshTrust? trust = null, LinkPurpose purpose = LinkPurpose.Pool)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);   // dual-mode: IPv4, IPv6 or a name
        SslStream? tls = null;
        var who = peer ?? "a core gateway";
        try
        {
            SocketTuning.ForLink(socket);
            await socket.ConnectAsync(address, deadline.Token);
            tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(identity.ClientOptions(peer), deadline.Token);
            var them = GatewayIdentity.Of((X509Certificate2)tls.RemoteCertificate!)!;
            if (peer is null && them.Role != GatewayRole.Core)
                throw new LinkException($"{address} is '{them.Name}', whose certificate has the edge role: --join takes core gateways' link addresses");
            if (trust?.AdmitLink(them) is { IsAdmitted: false, Refusal: not AdmissionRefusal.NotReady } refused)
                throw new LinkException($"dialing {them.Name} at {address}: not linking: {refused.Reason}");
            await FrameIO.WriteAsync(tls, new Hello(FrameCodec.ProtocolVersion, identity.Name, purpose), deadline.Token);
            var reply = await FrameIO.ReadAsync(tls, new byte[FrameCodec.MaxFrame], deadline.Token);
            switch (reply)
            {
                case null:
                    throw new LinkException($"{them.Name} at {address} closed the link after TLS: it rejected this gateway's certificate (is it issued by the mesh CA and named '{identity.Name}'?)");
                case HelloRefused no:
                    throw new LinkException($"{them.Name} at {address} refused this gateway: {no.Message}") { Refusal = (AdmissionRefusal)no.Reason };
                case HelloAck ack when ack.Version != FrameCodec.ProtocolVersion:
                    throw new LinkException($"{them.Name} speaks link protocol {ack.Version}, this gateway {FrameCodec.ProtocolVersion}: run the same Mesh version on both");
                case HelloAck:
                    return new LinkConnection(socket, tls, them, dialed: true, purpose);
                default:
                    throw new LinkException($"{them.Name} at {address} answered Hello with {reply.Type}");
            }
        }
        catch (Exception e)
        {
            if (tls is not null) await tls.DisposeAsync(); else socket.Dispose();
            throw e switch
            {
                LinkException => e,
                OperationCanceledException when !ct.IsCancellationRequested => new LinkException($"dialing {who} at {address}: no link within {timeout.TotalSeconds:0.#}s"),
                AuthenticationException when IsOlderTls(e) => new LinkException(
                    $"dialing {who} at {address}: it does not speak TLS 1.3, so it is not a Mesh link port; is it a cluster port (Akka remoting)? "
                    + "Give the link address the core gateway listens on (its --listen), e.g. HOST:7443"),
                AuthenticationException => new LinkException($"dialing {who} at {address}: TLS refused ({Describe(e)}); is its certificate from this mesh's CA{(peer is null ? "" : $" and named '{peer}'")}?"),
                SocketException s => new LinkException($"dialing {who} at {address}: {s.SocketErrorCode}"),
                IOException or ProtocolException => new LinkException($"dialing {who} at {address}: {Describe(e)}"),
                _ => e,
            };
        }
    }

    /// <summary>The peer offered only TLS 1.2 or older (Akka remoting's DotNetty transport does): a cluster port, not a link port.</summary>
    private static bool IsOlderTls(Exception e) =>
        Describe(e).Contains("protocol version", StringComparison.OrdinalIgnoreCase) || Describe(e).Contains("wrong version", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs the accepting side's handshake on a fresh socket; throws <see cref="LinkException"/> with the reason.</summary>
    /// <param name="trust">a peer it does not admit hears why (HelloRefused) before the connection closes</param>
    public static async Task<LinkConnection> AcceptAsync(MeshIdentity identity, Socket socket, TimeSpan timeout, CancellationToken ct, MeshTrust? trust = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        SocketTuning.ForLink(socket);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(identity.ServerOptions(), deadline.Token);
            var them = tls.RemoteCertificate is X509Certificate2 c ? GatewayIdentity.Of(c) : null;
            var frame = await FrameIO.ReadAsync(tls, new byte[FrameCodec.MaxFrame], deadline.Token);
            if (frame is not Hello hello) throw new LinkException($"link from {remote}: expected Hello, got {frame?.Type.ToString() ?? "end of stream"}") { Kind = "protocol" };
            if (them is null || hello.Gateway != them.Name) throw new LinkException($"link from {remote}: says it is '{hello.Gateway}' but its certificate names '{them?.Name}'") { Kind = "name_mismatch" };
            if (hello.Version != FrameCodec.ProtocolVersion) throw new LinkException($"link from {hello.Gateway} at {remote}: speaks link protocol {hello.Version}, this gateway {FrameCodec.ProtocolVersion}") { Kind = "protocol" };
            if (trust?.AdmitLink(them) is { IsAdmitted: false } refused)
            {
                await FrameIO.WriteAsync(tls, new HelloRefused((byte)refused.Refusal, refused.Reason), deadline.Token);
                throw new LinkException($"link from {them.Name} at {remote} refused: {refused.Reason}") { Refusal = refused.Refusal };
            }
            await FrameIO.WriteAsync(tls, new HelloAck(FrameCodec.ProtocolVersion, identity.Name), deadline.Token);
            return new LinkConnection(socket, tls, them, dialed: false, hello.Purpose);
        }
        catch (Exception e)
        {
            await tls.DisposeAsync();
            throw e switch
            {
                LinkException => e,
                OperationCanceledException when !ct.IsCancellationRequested => new LinkException($"link from {remote}: no handshake within {timeout.TotalSeconds:0.#}s") { Kind = "timeout" },
                AuthenticationException => new LinkException($"link from {remote} rejected: TLS handshake failed ({Describe(e)}); not a gateway of this mesh") { Kind = "tls" },
                IOException or ProtocolException or SocketException => new LinkException($"link from {remote} rejected: {Describe(e)}") { Kind = "protocol" },
                _ => e,
            };
        }
    }

    private static string Describe(Exception e) => e.InnerException is { } inner ? $"{e.Message} {inner.Message}".Trim() : e.Message;
}
