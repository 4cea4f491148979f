using System.Diagnostics;
using Mesh.Contracts.Metrics;
using Mesh.Gateway.Flows;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Metrics;

/// <summary>One flow at an entry, as the metrics see it: open while it runs, then counted by outcome, bytes and duration.</summary>
public sealed class FlowMetrics
{
    private readonly KeyValuePair<string, object?> _service;
    private readonly long _started = Stopwatch.GetTimestamp();

    private FlowMetrics(string service)
    {
        _service = new("service", service);
        MeshMeter.OpenFlows.Add(1, _service);
    }

    public static FlowMetrics Started(string service) => new(service);

    public void Ended(FlowOutcome outcome)
    {
        MeshMeter.OpenFlows.Add(-1, _service);
        var result = outcome.End switch { FlowEnd.Refused => "refused", FlowEnd.Failed => "failed", _ => "ok" };
        MeshMeter.Flows.Add(1, _service, new("outcome", result));
        if (outcome.End == FlowEnd.Refused) MeshMeter.Refusals.Add(1, _service, new("reason", RefusalLabel(outcome.Refusal)));
        MeshMeter.Bytes.Add(outcome.BytesUp, _service, new("direction", "up"));
        MeshMeter.Bytes.Add(outcome.BytesDown, _service, new("direction", "down"));
        MeshMeter.FlowDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, _service);
    }

    /// <summary>A refusal's reason as a label: ServiceDown -> service_down.</summary>
    public static string RefusalLabel(RefuseReason? reason) => reason is { } r
        ? string.Concat(r.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? $"_{char.ToLowerInvariant(c)}" : $"{char.ToLowerInvariant(c)}"))
        : "other";
}
