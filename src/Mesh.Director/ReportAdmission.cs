using Mesh.Config;
using Mesh.Contracts.Health;
using Mesh.Contracts.Routing;
using Mesh.Director.Routing;

namespace Mesh.Director;

/// <summary>
/// Pure: what the director takes from a gateway's report. A report is about its sender only (the name the
/// TLS handshake proved, stamped by the core gateway that carried it): a link report keeps only the links
/// the config declares between the sender and another gateway, a health report only the services the sender
/// owns. A sender the config does not declare, or a sequence number that cannot come from a real clock
/// (gateways number reports from the time in microseconds), is refused. The same checks apply to what a
/// previous director stored, so a poisoned store is dropped on restore.
/// </summary>
public static class ReportAdmission
{
    /// <summary>How far ahead of this director's clock a gateway's clock may run.</summary>
    public static readonly TimeSpan ClockSlack = TimeSpan.FromHours(1);

    public static long MaxSequence(DateTimeOffset now) => (now + ClockSlack).ToUnixTimeMilliseconds() * 1000;

    /// <summary>The report as it may be applied, or null and why not.</summary>
    public static LinkReport? Admit(LinkReport report, RouteMap map, DateTimeOffset now, out string? refused)
    {
        if (Sender(report.Gateway, report.Sequence, map, now) is { } why) { refused = why; return null; }
        var sender = map.Gateways[report.Gateway];
        var links = report.Links.Where(l => Declared(sender, l.Peer, map))
            .Where(l => l.RttMs is null or (>= 0 and < 600_000))
            .GroupBy(l => l.Peer).Select(g => g.First()).ToArray();
        refused = null;
        return links.Length == report.Links.Count ? report : report with { Links = links };
    }

    /// <summary>
    /// Whether the config declares a link between <paramref name="sender"/> and <paramref name="peer"/>: two gateways where
    /// at least one accepts links (<see cref="Paths.Declared"/>'s rule), looked up, not the mesh's every link built per report
    /// (~49,000 at 1,000 gateways, for every routine report any gateway sends).
    /// </summary>
    private static bool Declared(GatewayConfig sender, string peer, RouteMap map) =>
        peer != sender.Name && map.Gateways.TryGetValue(peer, out var other) && (Accepts(sender) || Accepts(other));

    private static bool Accepts(GatewayConfig g) => g.Kind == GatewayKind.Core || g.AcceptsLinks;

    public static HealthReport? Admit(HealthReport report, RouteMap map, DateTimeOffset now, out string? refused)
    {
        if (Sender(report.Gateway, report.Sequence, map, now) is { } why) { refused = why; return null; }
        var services = report.Services
            .Where(s => map.Services.TryGetValue(s.Service, out var declared) && declared.Gateway == report.Gateway)
            .GroupBy(s => s.Service).Select(g => g.First())
            .Select(s => s.Reason is { Length: > 500 } text ? s with { Reason = text[..500] } : s)
            .ToArray();
        refused = null;
        return services.Length == report.Services.Count && services.All(s => report.Services.Contains(s)) ? report : report with { Services = services };
    }

    private static string? Sender(string gateway, long sequence, RouteMap map, DateTimeOffset now)
    {
        if (!map.Gateways.ContainsKey(gateway)) return "the config does not declare it";
        if (sequence <= 0 || sequence > MaxSequence(now))
            return $"its sequence number {sequence} is not from a real clock (more than {ClockSlack.TotalHours:0}h ahead of the director's)";
        return null;
    }
}
