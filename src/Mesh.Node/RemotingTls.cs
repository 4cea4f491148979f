using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Mesh.Contracts.Logging;
using Mesh.Transport.Security;

namespace Mesh.Node;

/// <summary>
/// The control plane's TLS (Akka's DotNetty transport with a custom certificate validator): Akka remoting presents the gateway's
/// own certificate, requires one from every peer, and accepts only certificates that chain to this
/// mesh's CA, byte for byte (never the OS store), have the core role, are not revoked, and (once the route
/// map is known) name a core gateway of the config. Both directions use the same check and say why on
/// one line. What a dialed member's certificate proved is kept (<see cref="ClusterPeers"/>), so that a
/// member cannot claim another gateway's name (ClusterGuardActor).
/// </summary>
public static partial class RemotingTls
{
    private static readonly LogLimiter Refusals = new(TimeSpan.FromMinutes(1));

    public static DotNettySslSetup Setup(MeshIdentity identity, MeshTrust trust, ClusterPeers peers) => new(identity.Certificate, suppressValidation: false,
        requireMutualAuthentication: true, validateCertificateHostname: false,
        customValidator: (cert, _, peer, _, log) =>
        {
            if (cert is null)
            {
                log.Warning("cluster connection with {0} refused: it presented no certificate", LogText.Safe(peer, 120));
                return false;
            }
            if (!identity.IsSignedByMeshCa(cert, out var why))
            {
                log.Warning("cluster connection with {0} refused: its certificate ({1}) is not from this mesh's CA: {2}", LogText.Safe(peer, 120), cert.Subject, why);
                return false;
            }
            var them = GatewayIdentity.Of(cert);
            var admission = them is null ? new Admission(AdmissionRefusal.NotDeclared, "its certificate names no gateway") : trust.AdmitClusterMember(them);
            if (!admission.IsAdmitted)
            {   // a refused node retries every few seconds: one line a minute per certificate and reason
                if (Refusals.ShouldLog($"{them?.Fingerprint} {admission.Refusal}", Environment.TickCount64, out var held))
                    log.Warning("cluster connection with {0} refused: {1}{2}", LogText.Safe(peer, 120), admission.Reason,
                        held > 0 ? $" ({held} more attempts since the last line)" : "");
                return false;
            }
            peers.Proved(peer, them!);
            return true;
        });
}

/// <summary>
/// What each cluster peer's certificate proved, by the address this node dialed (Akka gives the
/// validator the peer's address for outbound connections). Readable from any thread.
/// </summary>
public sealed partial class ClusterPeers
{
    private readonly ConcurrentDictionary<string, GatewayIdentity> _byAddress = new(StringComparer.OrdinalIgnoreCase);

    public void Proved(string peer, GatewayIdentity identity)
    {
        if (HostPort().Match(peer) is { Success: true } m) _byAddress[$"{m.Groups[1].Value.Trim('[', ']')}:{m.Groups[2].Value}"] = identity;
    }

    /// <summary>The identity proved by the certificate of the member at <paramref name="host"/>:<paramref name="port"/>, if this node dialed it.</summary>
    public GatewayIdentity? At(string host, int port) => _byAddress.GetValueOrDefault($"{host.Trim('[', ']')}:{port}");

    [GeneratedRegex(@"(\[[^\]]+\]|[^/@:\[\]]+):(\d+)/?$")]
    private static partial Regex HostPort();
}
