using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Transport.Security;

/// <summary>
/// The mesh's private PKI: one CA, and one certificate per gateway whose identity is the gateway's name
/// (CN and DNS SAN) and its role (a URI SAN, <see cref="GatewayIdentity"/>). ECDSA P-256.
/// Files are written by <see cref="PkiFiles"/>.
/// </summary>
public static class MeshPki
{
    public const string CaCertFile = "ca.crt", CaKeyFile = "ca.key";

    public static (X509Certificate2 Cert, ECDsa Key) CreateCa(string meshName, TimeSpan validity)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={meshName} mesh CA, O=Mesh", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri($"{GatewayIdentity.UriScheme}://{meshName}"));   // the trust domain its certificates name
        req.CertificateExtensions.Add(san.Build());
        var now = DateTimeOffset.UtcNow;
        return (req.CreateSelfSigned(now.AddMinutes(-5), now + validity), key);
    }

    /// <param name="moreNames">host names or IP addresses the certificate is also valid for (an API served over HTTPS with it)</param>
    public static (X509Certificate2 Cert, ECDsa Key) Issue(string gatewayName, GatewayRole role, X509Certificate2 caCert, ECDsa caKey, TimeSpan validity,
        IEnumerable<string>? moreNames = null)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={gatewayName}, O=Mesh", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));   // server and client auth
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(gatewayName);   // first: the gateway's name (NameOf)
        foreach (var more in moreNames ?? [])
            if (System.Net.IPAddress.TryParse(more, out var ip)) san.AddIpAddress(ip); else san.AddDnsName(more);
        san.AddUri(GatewayIdentity.UriFor(MeshNameOf(caCert), role, gatewayName));
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caCert, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + validity < caCert.NotAfter ? now + validity : caCert.NotAfter;
        using var signer = caCert.HasPrivateKey ? X509CertificateLoader.LoadCertificate(caCert.RawData).CopyWithPrivateKey(caKey) : caCert.CopyWithPrivateKey(caKey);
        var cert = req.Create(signer, now.AddMinutes(-5), notAfter, serial);
        return (cert, key);
    }

    /// <summary>The mesh a CA serves: its URI SAN's host, else the "NAME mesh CA" of its subject (CAs made before roles).</summary>
    public static string MeshNameOf(X509Certificate2 ca)
    {
        foreach (var ext in ca.Extensions)
            if (ext is X509SubjectAlternativeNameExtension san && FirstUri(san) is { } uri && uri.Scheme == GatewayIdentity.UriScheme)
                return uri.Host;
        var cn = ca.GetNameInfo(X509NameType.SimpleName, false);
        return cn.EndsWith(" mesh CA", StringComparison.Ordinal) ? cn[..^" mesh CA".Length] : "mesh";
    }

    private static Uri? FirstUri(X509SubjectAlternativeNameExtension san)
    {
        var reader = new System.Formats.Asn1.AsnReader(san.RawData, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        var uriTag = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6);
        while (reader.HasData)
        {
            if (!reader.PeekTag().HasSameClassAndValue(uriTag)) { reader.ReadEncodedValue(); continue; }
            return Uri.TryCreate(reader.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uriTag), UriKind.Absolute, out var u) ? u : null;
        }
        return null;
    }

    /// <summary>The gateway name a certificate carries: its DNS SAN, else its CN.</summary>
    public static string? NameOf(X509Certificate2 cert)
    {
        foreach (var ext in cert.Extensions)
            if (ext is X509SubjectAlternativeNameExtension san)
                foreach (var dns in san.EnumerateDnsNames()) return dns;
        var cn = cert.GetNameInfo(X509NameType.SimpleName, false);
        return string.IsNullOrEmpty(cn) ? null : cn;
    }
}
