using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Mesh.Transport.Security;

namespace Mesh.Node;

/// <summary>
/// The control plane's TLS (notes/akka-remoting-tls.md, recipe a): Akka remoting presents the gateway's
/// own certificate, requires one from every peer, and accepts only certificates that chain to this
/// mesh's CA, byte for byte (never the OS store: a public certificate must not get in). A node without
/// such a certificate can neither join the cluster nor reach the receptionist.
/// </summary>
public static class RemotingTls
{
    public static DotNettySslSetup Setup(MeshIdentity identity) => new(identity.Certificate, suppressValidation: false,
        requireMutualAuthentication: true, validateCertificateHostname: false,
        customValidator: (cert, _, peer, _, log) =>
        {
            if (cert is null)
            {
                log.Warning("cluster connection with {0} refused: it presented no certificate", peer);
                return false;
            }
            if (identity.IsSignedByMeshCa(cert, out var why)) return true;
            log.Warning("cluster connection with {0} refused: its certificate ({1}) is not from this mesh's CA: {2}", peer, cert.Subject, why);
            return false;
        });
}
