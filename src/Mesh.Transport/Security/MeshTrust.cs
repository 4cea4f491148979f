namespace Mesh.Transport.Security;

/// <summary>Why a peer is not admitted. Values travel in HelloRefused frames: never renumber.</summary>
public enum AdmissionRefusal : byte
{
    None = 0,
    /// <summary>The served route map does not declare a gateway of that name.</summary>
    NotDeclared = 1,
    /// <summary>The certificate's fingerprint is in [mesh] revoked.</summary>
    Revoked = 2,
    /// <summary>The certificate lacks the core role (cluster), or the config does not declare it a core gateway.</summary>
    NotCore = 3,
    /// <summary>This gateway has no route table yet, so it cannot tell who is declared; try again in a moment.</summary>
    NotReady = 4,
    /// <summary>Too many handshakes are in progress; try again in a moment.</summary>
    Busy = 5,
}

/// <summary>The answer to "may this certificate in?": admitted, or why not in words fit for both sides' logs.</summary>
public readonly record struct Admission(AdmissionRefusal Refusal, string Reason)
{
    public static readonly Admission Admitted = new(AdmissionRefusal.None, "");
    public bool IsAdmitted => Refusal == AdmissionRefusal.None;
}

/// <summary>Who the mesh admits: the gateways the served route map declares (core or edge) and the revoked certificates.</summary>
/// <param name="Declared">name -> declared as a core gateway; null while no route map is known</param>
public sealed record TrustPolicy(IReadOnlyDictionary<string, bool>? Declared, IReadOnlySet<string> Revoked)
{
    public static readonly TrustPolicy Unknown = new(null, new HashSet<string>());
}

/// <summary>
/// This gateway's view of who may talk to it, on both planes (docs/security.md). The gateway updates it
/// from every route table it applies (the director's map is the truth); a core gateway that may host the
/// director seeds it from its config before the first table. Readable from any thread.
/// </summary>
public sealed class MeshTrust
{
    private volatile TrustPolicy _policy = TrustPolicy.Unknown;

    public TrustPolicy Policy => _policy;

    /// <summary>Raised after each change, so that connections no longer admitted are cut.</summary>
    public event Action<TrustPolicy>? Changed;

    public void Update(IEnumerable<(string Name, bool IsCore)> declared, IEnumerable<string> revoked)
    {
        var policy = new TrustPolicy(declared.ToDictionary(d => d.Name, d => d.IsCore, StringComparer.Ordinal),
            revoked.Select(r => r.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal));
        var before = _policy;
        _policy = policy;
        if (!Same(before, policy)) Changed?.Invoke(policy);
    }

    private static bool Same(TrustPolicy a, TrustPolicy b) =>
        a.Declared is not null && b.Declared is not null && a.Revoked.SetEquals(b.Revoked)
        && a.Declared.Count == b.Declared.Count && a.Declared.All(d => b.Declared.TryGetValue(d.Key, out var core) && core == d.Value);

    /// <summary>May this certificate hold links to us (or we to it)? Declared and not revoked.</summary>
    public Admission AdmitLink(GatewayIdentity peer)
    {
        var policy = _policy;
        if (policy.Revoked.Contains(peer.Fingerprint))
            return new(AdmissionRefusal.Revoked, $"the certificate of '{peer.Name}' ({peer.Fingerprint}) is revoked ([mesh] revoked)");
        if (policy.Declared is null)
            return new(AdmissionRefusal.NotReady, "no route map yet: who is declared is not known; try again in a moment");
        if (!policy.Declared.ContainsKey(peer.Name))
            return new(AdmissionRefusal.NotDeclared, $"'{peer.Name}' is not a gateway of the mesh config (no [gateways.{peer.Name}])");
        return Admission.Admitted;
    }

    /// <summary>
    /// May this certificate be a member of the cluster? A core certificate, not revoked, and (once the map
    /// is known) declared as a core gateway. Before the first map, any core certificate of the mesh CA.
    /// </summary>
    public Admission AdmitClusterMember(GatewayIdentity peer)
    {
        var policy = _policy;
        if (peer.Role != GatewayRole.Core)
            return new(AdmissionRefusal.NotCore, $"the certificate of '{peer.Name}' has the edge role; only core certificates may join the cluster (mesh cert issue {peer.Name} --role core)");
        if (policy.Revoked.Contains(peer.Fingerprint))
            return new(AdmissionRefusal.Revoked, $"the certificate of '{peer.Name}' ({peer.Fingerprint}) is revoked ([mesh] revoked)");
        if (policy.Declared is null) return Admission.Admitted;
        if (!policy.Declared.TryGetValue(peer.Name, out var core))
            return new(AdmissionRefusal.NotDeclared, $"'{peer.Name}' is not a gateway of the mesh config (no [gateways.{peer.Name}])");
        if (!core)
            return new(AdmissionRefusal.NotCore, $"'{peer.Name}' is declared as an edge (no links in [gateways.{peer.Name}], or role = \"edge\"); only core gateways may join the cluster");
        return Admission.Admitted;
    }

    /// <summary>A peer whose word about a flow's origin is believed: a gateway declared core (its certificate then has the core role).</summary>
    public bool IsDeclaredCore(string peer) => _policy.Declared?.GetValueOrDefault(peer) == true;
}
