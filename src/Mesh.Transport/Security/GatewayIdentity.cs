using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Transport.Security;

/// <summary>What a gateway certificate allows: a core gateway may be a cluster member and host the director; an edge may not.</summary>
public enum GatewayRole { Edge, Core }

/// <summary>
/// What a certificate proves about its holder: the gateway's name, its role, and the certificate's
/// fingerprint (what `[mesh] revoked` lists). The role is read from the certificate's SPIFFE-style URI SAN
/// <c>spiffe://MESH/gateway/ROLE/NAME</c>, signed by the mesh CA; a certificate without one (issued before
/// roles existed) counts as an edge.
/// </summary>
public sealed record GatewayIdentity(string Name, GatewayRole Role, string Fingerprint)
{
    public const string UriScheme = "spiffe";

    /// <summary>The identity a certificate carries, or null when it names no gateway.</summary>
    public static GatewayIdentity? Of(X509Certificate2 cert)
    {
        var name = MeshPki.NameOf(cert);
        return name is null ? null : new GatewayIdentity(name, RoleOf(cert, name), FingerprintOf(cert));
    }

    /// <summary>"sha256:" and the lowercase hex SHA-256 of the certificate (DER), as `mesh cert show` prints it.</summary>
    public static string FingerprintOf(X509Certificate2 cert) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(cert.RawData));

    /// <summary>A fingerprint as the config may write it: "sha256:" and 64 hex digits (either case).</summary>
    public static bool IsFingerprint(string text) =>
        text.StartsWith("sha256:", StringComparison.Ordinal) && text.Length == 71 && text[7..].All(Uri.IsHexDigit);

    /// <summary>The role in the URI SAN whose last segment is the certificate's own name; edge when there is none.</summary>
    private static GatewayRole RoleOf(X509Certificate2 cert, string name)
    {
        foreach (var ext in cert.Extensions)
        {
            if (ext is not X509SubjectAlternativeNameExtension san) continue;
            foreach (var uri in UriSans(san))
            {
                if (uri.Scheme != UriScheme) continue;
                var path = uri.AbsolutePath.Trim('/').Split('/');
                if (path is ["gateway", var role, var who] && who == name)
                    return role == "core" ? GatewayRole.Core : GatewayRole.Edge;
            }
        }
        return GatewayRole.Edge;
    }

    private static IEnumerable<Uri> UriSans(X509SubjectAlternativeNameExtension san)
    {
        // .NET enumerates DNS names and IP addresses only: read the URIs ([6] IA5String) from the DER.
        var reader = new System.Formats.Asn1.AsnReader(san.RawData, System.Formats.Asn1.AsnEncodingRules.DER);
        var names = reader.ReadSequence();
        var uriTag = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6);
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag.HasSameClassAndValue(uriTag))
            {
                var text = names.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uriTag);
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri)) yield return uri;
            }
            else names.ReadEncodedValue();
        }
    }

    /// <summary>The URI SAN a certificate of <paramref name="role"/> for <paramref name="name"/> carries in mesh <paramref name="mesh"/>.</summary>
    public static Uri UriFor(string mesh, GatewayRole role, string name) =>
        new($"{UriScheme}://{mesh}/gateway/{(role == GatewayRole.Core ? "core" : "edge")}/{name}");

    public override string ToString() => $"{Name} ({(Role == GatewayRole.Core ? "core" : "edge")}, {Fingerprint[..19]}…)";
}
