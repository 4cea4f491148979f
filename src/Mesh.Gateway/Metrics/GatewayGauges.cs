using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Mesh.Contracts.Metrics;
using Mesh.Transport.Links;

namespace Mesh.Gateway.Metrics;

/// <summary>
/// The gauges read when /metrics is scraped: link pools and round trips by peer, and the health of the
/// services this gateway owns. One gateway per process: the running gateway attaches what it has.
/// </summary>
public static class GatewayGauges
{
    private static volatile LinkRegistry? _links;
    private static volatile Func<IEnumerable<(string Service, bool Up)>>? _services;
    private static readonly ConcurrentDictionary<(string Entry, string Service), bool> EntriesListening = new();

    static GatewayGauges()
    {
        MeshMeter.Meter.CreateObservableGauge("mesh.link.pool.idle", () => Pools().Select(p => new Measurement<int>(p.IdleCount, new KeyValuePair<string, object?>("peer", p.Peer))),
            description: "Idle link connections to each peer, ready for the next flow");
        MeshMeter.Meter.CreateObservableGauge("mesh.link.rtt", () => Pools().Where(p => p.RttMs is not null)
            .Select(p => new Measurement<double>(p.RttMs!.Value / 1000, new KeyValuePair<string, object?>("peer", p.Peer))),
            unit: "s", description: "Round trip to each peer this gateway dials (smallest of the last pings)");
        MeshMeter.Meter.CreateObservableGauge("mesh.service.up", () => (_services?.Invoke() ?? [])
            .Select(s => new Measurement<int>(s.Up ? 1 : 0, new KeyValuePair<string, object?>("service", s.Service))),
            description: "1 while a service this gateway owns answers its check, 0 while it is down");
        MeshMeter.Meter.CreateObservableGauge("mesh.entry.listening", () => EntriesListening
            .Select(e => new Measurement<int>(e.Value ? 1 : 0, new KeyValuePair<string, object?>("entry", e.Key.Entry), new KeyValuePair<string, object?>("service", e.Key.Service))),
            description: "1 while an entry accepts clients, 0 while it refuses them at connect (its service is down, or its address cannot be bound)");
    }

    /// <summary>Clients refused by the kernel (connection refused) are not counted: this gauge says when they are.</summary>
    public static void EntryListening(string entry, string service, bool listening) => EntriesListening[(entry, service)] = listening;

    public static void EntryGone(string entry, string service) => EntriesListening.TryRemove((entry, service), out _);

    private static IEnumerable<LinkPool> Pools() => _links?.Pools ?? [];

    public static void Attach(LinkRegistry links, Func<IEnumerable<(string Service, bool Up)>> services) => (_links, _services) = (links, services);

    public static void Detach(LinkRegistry links)
    {
        if (_links == links) (_links, _services) = (null, null);
    }
}
