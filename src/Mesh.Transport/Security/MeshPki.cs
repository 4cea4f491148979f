using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mesh.Transport.Security;

/// <summary>
/// The mesh's private PKI: one CA, and one certificate per gateway whose identity (CN and DNS SAN) is the
/// gateway's name. ECDSA P-256. Keys are written owner-only (0600).
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
        var now = DateTimeOffset.UtcNow;
        return (req.CreateSelfSigned(now.AddMinutes(-5), now + validity), key);
    }

    public static (X509Certificate2 Cert, ECDsa Key) Issue(string gatewayName, X509Certificate2 caCert, ECDsa caKey, TimeSpan validity)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={gatewayName}, O=Mesh", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));   // server and client auth
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(gatewayName);
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

    /// <summary>Writes NAME.crt (public) and NAME.key (owner-only) into <paramref name="dir"/>.</summary>
    public static (string CertPath, string KeyPath) Write(string dir, string baseName, X509Certificate2 cert, ECDsa key)
    {
        Directory.CreateDirectory(dir);
        var certPath = Path.Combine(dir, baseName + ".crt");
        var keyPath = Path.Combine(dir, baseName + ".key");
        File.WriteAllText(certPath, cert.ExportCertificatePem() + "\n");
        WriteSecret(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certPath, keyPath);
    }

    private static void WriteSecret(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;   // never world-readable, not even briefly
        using (var f = new FileStream(path, options)) f.Write(Encoding.ASCII.GetBytes(text));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public static (X509Certificate2 Cert, ECDsa Key) LoadCa(string dir)
    {
        var cert = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(dir, CaCertFile)));
        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(dir, CaKeyFile)));
        return (cert, key);
    }

    /// <summary>The gateway name a certificate carries: its DNS SAN, else its CN.</summary>
    public static string? NameOf(X509Certificate2 cert)
    {
        foreach (var ext in cert.Extensions)
            if (ext is X509SubjectAlternativeNameExtension san)
                foreach (var dns in san.EnumerateDnsNames()) return dns;
        return cert.GetNameInfo(X509NameType.SimpleName, false);
    }
}
