namespace Mesh.Transport.Protocol;

/// <summary>Frame types of the link protocol (docs/link-protocol.md). Values are on the wire: never renumber.</summary>
public enum FrameType : byte
{
    Hello = 1, HelloAck = 2, Ping = 3, Pong = 4, Open = 5, Accept = 6, Refuse = 7,
    Data = 8, End = 9, Abort = 10, Control = 11, HelloRefused = 12,
}

/// <summary>What the dialer opens a connection for. Values are on the wire: never renumber.</summary>
public enum LinkPurpose : byte
{
    /// <summary>An idle connection in the peer's pool, claimed for one flow at a time.</summary>
    Pool = 1,
    /// <summary>An edge's control channel to the director through this core gateway (never claimed for flows).</summary>
    Control = 2,
    /// <summary>A multiplexed link: many flows at once, each a stream with its own credit window (docs/link-protocol.md).</summary>
    Mux = 3,
}

/// <summary>Why a flow was refused. Values are on the wire: never renumber.</summary>
public enum RefuseReason : byte
{
    UnknownService = 1,
    ServiceDown = 2,
    NoRoute = 3,
    NotAllowed = 4,
    HopBudgetExhausted = 5,
    ServiceUnreachable = 6,
}

public abstract record Frame
{
    public abstract FrameType Type { get; }
}

/// <summary>First frame from the dialing side after TLS: the protocol version, the gateway it is, and what the connection is for.</summary>
public sealed record Hello(byte Version, string Gateway, LinkPurpose Purpose = LinkPurpose.Pool) : Frame
{
    public override FrameType Type => FrameType.Hello;
}

/// <summary>The accepting side's answer to <see cref="Hello"/>.</summary>
public sealed record HelloAck(byte Version, string Gateway) : Frame
{
    public override FrameType Type => FrameType.HelloAck;
}

/// <summary>
/// The accepting side's answer to <see cref="Hello"/> when it does not admit the dialer (not declared,
/// revoked, not ready, busy); it closes the connection after it. <paramref name="Reason"/> is a
/// Mesh.Transport.Security.AdmissionRefusal value.
/// </summary>
public sealed record HelloRefused(byte Reason, string Message) : Frame
{
    public override FrameType Type => FrameType.HelloRefused;
}

/// <summary>Keeps an idle pooled connection (and its NAT mapping) alive and proves it still works.</summary>
public sealed record Ping(ulong Nonce) : Frame
{
    public override FrameType Type => FrameType.Ping;
}

public sealed record Pong(ulong Nonce) : Frame
{
    public override FrameType Type => FrameType.Pong;
}

/// <summary>
/// Claims an idle connection for one flow. <paramref name="Version"/> lets the frame grow (e.g. end-to-end
/// encryption through relays) without a new frame type. <paramref name="Origin"/> is the gateway whose entry
/// the client connected to: the owner checks the service's policy against it, believing it only when the
/// link it came on is from that gateway itself or from a core gateway (a relay).
/// </summary>
public sealed record Open(byte Version, Guid FlowId, string Service, string Destination, byte HopBudget, string ClientAddress, string Origin) : Frame
{
    public override FrameType Type => FrameType.Open;
}

/// <summary>The service was reached: from now on the connection is a plain byte pipe.</summary>
public sealed record Accept(Guid FlowId) : Frame
{
    public override FrameType Type => FrameType.Accept;
}

public sealed record Refuse(Guid FlowId, RefuseReason Reason, string Message) : Frame
{
    public override FrameType Type => FrameType.Refuse;
}

/// <summary>
/// One piece of a control message on an edge's control connection (<see cref="LinkPurpose.Control"/>):
/// a message is one or more chunks, the last marked <paramref name="Final"/>. Never decoded into a record on
/// the hot path: <see cref="ControlChannel"/> assembles the bytes.
/// </summary>
public static class ControlFrame
{
    public const FrameType Type = FrameType.Control;
    public const byte FinalFlag = 1;
}

/// <summary>This direction of the flow is over (the sender's side sent FIN); the other may go on.</summary>
public sealed record End : Frame
{
    public static readonly End Instance = new();
    public override FrameType Type => FrameType.End;
}

/// <summary>The sender gave up the flow (its side broke off, or timed out): reset yours. Ends this direction.</summary>
public sealed record Abort(string Message) : Frame
{
    public override FrameType Type => FrameType.Abort;
}

/// <summary>A peer sent bytes that are not a valid frame here. The connection is closed; nothing else changes.</summary>
public sealed class ProtocolException(string message) : Exception(message);
