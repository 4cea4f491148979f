using Mesh.Transport.Flows;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Flows;

public enum FlowEnd { Completed, Refused, Failed, IdleTimeout, Canceled }

/// <summary>How one flow ended, in words for the log, and what it moved; a refusal carries its typed reason (the metrics' label).</summary>
public sealed record FlowOutcome(FlowEnd End, string Detail, long BytesUp = 0, long BytesDown = 0, RefuseReason? Refusal = null)
{
    /// <summary>The flow did not end cleanly: its plain sockets are reset, not closed with FIN.</summary>
    public bool Broken => End is FlowEnd.Failed or FlowEnd.IdleTimeout;

    public static FlowOutcome Refused(RefuseReason reason, string why) => new(FlowEnd.Refused, why, Refusal: reason);
    public static FlowOutcome Failed(string why) => new(FlowEnd.Failed, why);

    public static FlowOutcome From(PumpOutcome p) => p.Result switch
    {
        PumpResult.Completed => new(FlowEnd.Completed, "completed", p.BytesUp, p.BytesDown),
        PumpResult.IdleTimeout => new(FlowEnd.IdleTimeout, "idle timeout", p.BytesUp, p.BytesDown),
        PumpResult.Canceled => new(FlowEnd.Canceled, "canceled", p.BytesUp, p.BytesDown),
        _ => new(FlowEnd.Failed, p.Error ?? "failed", p.BytesUp, p.BytesDown),
    };
}
