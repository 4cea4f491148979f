using Mesh.Contracts.Routing;

namespace Mesh.Contracts.Health;

public enum HealthState { Unknown, Up, Down }

/// <summary>What the owner's last probes of a service found, and since when.</summary>
/// <param name="Reason">why the last probe failed (down), or null</param>
public sealed record ServiceHealth(string Service, HealthState State, string? Reason, DateTimeOffset Since);

/// <summary>
/// The state of every service a gateway owns, sent to the director whenever one changes state, and
/// every so often in any case; always the whole set, so a gateway that comes back after an outage (or a
/// director that just took over) replaces whatever stale state was kept. Acknowledged by
/// <see cref="HealthReportReceived"/>; the gateway sends it again until it is (docs/adr/0007).
/// </summary>
public sealed record HealthReport(string Gateway, long Sequence, IReadOnlyList<ServiceHealth> Services) : IRoutingMessage;

public sealed record HealthReportReceived(long Sequence) : IRoutingMessage;
