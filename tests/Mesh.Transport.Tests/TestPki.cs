using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Transport.Security;

namespace Mesh.Transport.Tests;

/// <summary>A mesh CA and gateway identities made in memory, plus a rogue CA with the same name.</summary>
public sealed class TestPki
{
    public static readonly TestPki Mesh = new("test");
    public static readonly TestPki Rogue = new("test");   // same CA name, another key: must not be trusted

    private readonly X509Certificate2 _ca;
    private readonly ECDsa _caKey;

    private TestPki(string meshName) => (_ca, _caKey) = MeshPki.CreateCa(meshName, TimeSpan.FromDays(1));

    public X509Certificate2 Ca => _ca;

    /// <summary>An identity named <paramref name="name"/>, issued by this CA, trusting <paramref name="trust"/> (default: this CA).</summary>
    public MeshIdentity Identity(string name, TestPki? trust = null, GatewayRole role = GatewayRole.Edge)
    {
        var (cert, key) = MeshPki.Issue(name, role, _ca, _caKey, TimeSpan.FromDays(1));
        return MeshIdentity.FromCertificate(cert.CopyWithPrivateKey(key), (trust ?? this)._ca);
    }
}
