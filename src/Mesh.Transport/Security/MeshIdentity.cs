using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Transport.Security;

/// <summary>
/// This gateway's TLS identity and trust: its certificate and key, and the mesh CA as the only trust
/// anchor (never the OS store). Builds the SslStream options for both ends of a link: TLS 1.3, and a
/// certificate required from both sides.
/// </summary>
public sealed class MeshIdentity
{
    private readonly X509Certificate2 _ca;
    private readonly SslStreamCertificateContext _context;
    private readonly X509ChainPolicy _policy;

    public MeshIdentity(X509Certificate2 certWithKey, X509Certificate2 ca)
    {
        Certificate = certWithKey;
        _ca = ca;
        Identity = GatewayIdentity.Of(certWithKey) ?? throw new ArgumentException("the certificate carries no gateway name");
        _context = SslStreamCertificateContext.Create(certWithKey, [], offline: true);
        _policy = MeshChainPolicy(ca);
    }

    /// <summary>Chains to the mesh CA alone (never the OS store), for client and server auth, no revocation lookups.</summary>
    private static X509ChainPolicy MeshChainPolicy(X509Certificate2 ca)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(ca);
        policy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        policy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        return policy;
    }

    /// <summary>What this gateway's own certificate proves: its name, role and fingerprint.</summary>
    public GatewayIdentity Identity { get; }
    public string Name => Identity.Name;
    public GatewayRole Role => Identity.Role;
    public X509Certificate2 Certificate { get; }
    /// <summary>The mesh CA, the only trust anchor.</summary>
    public X509Certificate2 Ca => _ca;

    /// <summary>Loads PEM files; errors name the file and what is wrong with it.</summary>
    public static MeshIdentity Load(string certPath, string keyPath, string caPath)
    {
        X509Certificate2 cert, ca;
        try { cert = X509Certificate2.CreateFromPemFile(certPath, keyPath); }
        catch (Exception e) when (e is CryptographicException or IOException or ArgumentException)
        { throw new MeshIdentityException($"cannot load --cert {certPath} with --key {keyPath}: {e.Message}"); }
        try { ca = X509Certificate2.CreateFromPem(File.ReadAllText(caPath)); }
        catch (Exception e) when (e is CryptographicException or IOException)
        { throw new MeshIdentityException($"cannot load --ca {caPath}: {e.Message}"); }
        var identity = FromCertificate(cert, ca);
        if (!identity.IsSignedByMeshCa(identity.Certificate, out var why))
            throw new MeshIdentityException($"--cert {certPath} is not valid under --ca {caPath}: {why}");
        return identity;
    }

    /// <summary>From a certificate that carries its private key (re-imported as PKCS#12: SslStream needs a persisted key handle).</summary>
    public static MeshIdentity FromCertificate(X509Certificate2 certWithKey, X509Certificate2 ca) =>
        new(X509CertificateLoader.LoadPkcs12(certWithKey.Export(X509ContentType.Pkcs12), null), ca);

    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificateContext = _context,
        ClientCertificateRequired = true,
        EnabledSslProtocols = SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = _policy,   // SslStream builds one chain, against the mesh CA: no second build in the callback
        RemoteCertificateValidationCallback = (_, cert, chain, errors) => Accept(cert, chain, errors, expectedName: null),
    };

    /// <param name="peerName">The gateway we mean to reach: its certificate must carry exactly this name; null when
    /// not known yet (an edge's first dial to a --join address: the caller then checks the role instead).</param>
    public SslClientAuthenticationOptions ClientOptions(string? peerName) => new()
    {
        TargetHost = peerName ?? "mesh-gateway",
        ClientCertificateContext = _context,
        EnabledSslProtocols = SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = _policy,
        RemoteCertificateValidationCallback = (_, cert, chain, errors) => Accept(cert, chain, errors, peerName),
    };

    /// <summary>
    /// SslStream has built the chain with the mesh policy: accept only if it found no error (the name check
    /// against TargetHost is redone here from the certificate, for both sides alike), and its root is our CA
    /// byte for byte (a rogue CA with the same name must not pass).
    /// </summary>
    private bool Accept(X509Certificate? cert, X509Chain? chain, SslPolicyErrors errors, string? expectedName)
    {
        if (cert is not X509Certificate2 peer || chain is null) return false;
        if ((errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) != SslPolicyErrors.None) return false;
        if (chain.ChainElements.Count == 0 || !chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(_ca.RawDataMemory.Span)) return false;
        return expectedName is null || MeshPki.NameOf(peer) == expectedName;
    }

    /// <summary>Chain to the mesh CA alone, with client and server auth usage. Name mismatch is checked by the caller.</summary>
    public bool IsSignedByMeshCa(X509Certificate2 cert, out string why)
    {
        using var chain = new X509Chain { ChainPolicy = _policy.Clone() };
        var ok = chain.Build(cert) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(_ca.RawDataMemory.Span);
        why = ok ? "" : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).DefaultIfEmpty("not issued by the mesh CA"));
        return ok;
    }
}

public sealed class MeshIdentityException(string message) : Exception(message);
