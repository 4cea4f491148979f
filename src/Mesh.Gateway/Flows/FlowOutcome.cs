namespace Mesh.Gateway.Flows;

public enum FlowEnd { Completed, Refused, Failed, IdleTimeout, Canceled }

/// <summary>How one flow ended, in words for the log, and what it moved.</summary>
public sealed record FlowOutcome(FlowEnd End, string Detail, long BytesUp = 0, long BytesDown = 0)
{
    public static FlowOutcome Refused(string why) => new(FlowEnd.Refused, why);
    public static FlowOutcome Failed(string why) => new(FlowEnd.Failed, why);
}
