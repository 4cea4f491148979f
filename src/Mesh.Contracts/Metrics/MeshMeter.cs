using System.Diagnostics.Metrics;

namespace Mesh.Contracts.Metrics;

/// <summary>
/// Every Mesh instrument, on one meter ("Mesh"). Gateways and the director record; a node that serves
/// /metrics renders them in the Prometheus text format (docs/metrics.md).
/// </summary>
public static class MeshMeter
{
    public const string Name = "Mesh";
    public static readonly Meter Meter = new(Name);

    /// <summary>Flows ended at an entry, by service and outcome (ok, refused, failed).</summary>
    public static readonly Counter<long> Flows = Meter.CreateCounter<long>("mesh.flows", description: "Flows ended at this gateway's entries");
    /// <summary>Refused flows by service and reason (service_down, no_route, unknown_service, …).</summary>
    public static readonly Counter<long> Refusals = Meter.CreateCounter<long>("mesh.flow.refusals", description: "Flows refused at this gateway's entries");
    public static readonly UpDownCounter<long> OpenFlows = Meter.CreateUpDownCounter<long>("mesh.flows.open", description: "Flows open at this gateway's entries");
    /// <summary>Bytes carried for clients of this gateway's entries, by service and direction (up: client to service).</summary>
    public static readonly Counter<long> Bytes = Meter.CreateCounter<long>("mesh.bytes", unit: "By", description: "Bytes carried through this gateway's entries");
    public static readonly Histogram<double> FlowDuration = Meter.CreateHistogram<double>("mesh.flow.duration", unit: "s", description: "How long flows at entries lasted");
    /// <summary>Flows this gateway opened as a stream of a multiplexed link (link mode mux: no claim, no dial), by peer.</summary>
    public static readonly Counter<long> Streams = Meter.CreateCounter<long>("mesh.link.streams", description: "Flows opened as streams of a multiplexed link, by peer");
    public static readonly Counter<long> Dials = Meter.CreateCounter<long>("mesh.link.dials", description: "Link connections dialed (a TLS handshake each), by peer");
    public static readonly Counter<long> DialFailures = Meter.CreateCounter<long>("mesh.link.dial.failures", description: "Failed dials of link connections, by peer");
    /// <summary>Link connections that failed their handshake, by reason (tls, silent, not_declared, revoked, busy, ...).</summary>
    public static readonly Counter<long> HandshakeFailures = Meter.CreateCounter<long>("mesh.link.handshake.failures", description: "Link connections refused or failed during the handshake, by reason");
    /// <summary>Flows a service's owner refused because their origin may not reach it, by service and origin.</summary>
    public static readonly Counter<long> FlowsDenied = Meter.CreateCounter<long>("mesh.flows.denied", description: "Flows refused by the owner: the origin gateway may not reach the service");
    /// <summary>Clients an entry closed at once, by entry and reason (not_allowed, max_connections, gateway_full).</summary>
    public static readonly Counter<long> EntryRefusals = Meter.CreateCounter<long>("mesh.entry.refusals", description: "Client connections an entry closed at once, by entry and reason");
    /// <summary>Flows this gateway relayed between two others (a core gateway on a path), by the link they came from and the one they went on.</summary>
    public static readonly Counter<long> RelayedFlows = Meter.CreateCounter<long>("mesh.relay.flows", description: "Flows relayed through this gateway, by the gateway they came from and the next hop");
    public static readonly Counter<long> Reloads = Meter.CreateCounter<long>("mesh.reloads", description: "Config loads by the director on this node, by result (applied, failed)");
    /// <summary>Route tables this gateway applied, by how they came: whole, or as a delta on the one it held (ADR 0017).</summary>
    public static readonly Counter<long> RouteTables = Meter.CreateCounter<long>("mesh.route.tables", description: "Route tables this gateway applied, by how they came (whole, delta)");
    public static readonly Counter<long> DirectorStarts = Meter.CreateCounter<long>("mesh.director.starts", description: "Times the director started on this node (a failover moves it)");
}
