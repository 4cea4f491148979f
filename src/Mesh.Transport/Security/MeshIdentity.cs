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

    public MeshIdentity(X509Certificate2 certWithKey, X509Certificate2 ca)
    {
        Certificate = certWithKey;
        _ca = ca;
        Name = MeshPki.NameOf(certWithKey) ?? throw new ArgumentException("the certificate carries no gateway name");
        _context = SslStreamCertificateContext.Create(certWithKey, [], offline: true);
    }

    public string Name { get; }
    public X509Certificate2 Certificate { get; }

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
        RemoteCertificateValidationCallback = (_, cert, _, errors) => Accept(cert, errors, expectedName: null),
    };

    /// <param name="peerName">The gateway we mean to reach: its certificate must carry exactly this name.</param>
    public SslClientAuthenticationOptions ClientOptions(string peerName) => new()
    {
        TargetHost = peerName,
        ClientCertificateContext = _context,
        EnabledSslProtocols = SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, cert, _, errors) => Accept(cert, errors, peerName),
    };

    private bool Accept(X509Certificate? cert, SslPolicyErrors errors, string? expectedName)
    {
        if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return false;
        var peer = cert as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(cert.GetRawCertData());
        if (!IsSignedByMeshCa(peer, out _)) return false;
        return expectedName is null || MeshPki.NameOf(peer) == expectedName;
    }

    /// <summary>Chain to the mesh CA alone, with client and server auth usage. Name mismatch is checked by the caller.</summary>
    public bool IsSignedByMeshCa(X509Certificate2 cert, out string why)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        var ok = chain.Build(cert) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(_ca.RawDataMemory.Span);
        why = ok ? "" : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).DefaultIfEmpty("not issued by the mesh CA"));
        return ok;
    }
}

public sealed class MeshIdentityException(string message) : Exception(message);
