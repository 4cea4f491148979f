using Mesh.Contracts.Logging;
using Mesh.Contracts.Routing;

namespace Mesh.Director.Observed;

/// <summary>What an event is about; its wire name is what the API and the stored history say ("reload-applied").</summary>
public enum EventKind { ReloadApplied, ReloadFailed, GatewayLost, GatewayBack, ServiceDown, ServiceUp }

public enum EventLevel { Info, Warning }

public static class EventNames
{
    public static string Wire(this EventKind kind) => kind switch
    {
        EventKind.ReloadApplied => "reload-applied",
        EventKind.ReloadFailed => "reload-failed",
        EventKind.GatewayLost => "gateway-lost",
        EventKind.GatewayBack => "gateway-back",
        EventKind.ServiceDown => "service-down",
        EventKind.ServiceUp => "service-up",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static string Wire(this EventLevel level) => level == EventLevel.Warning ? "warning" : "info";
}

/// <summary>Pure: the recent events an operator should know about, newest last, at most <see cref="Kept"/>.</summary>
public sealed class EventLog
{
    public const int Kept = 500;

    private readonly LinkedList<MeshEvent> _events = new();

    public int Count => _events.Count;

    public MeshEvent Add(DateTimeOffset at, EventLevel level, EventKind kind, string subject, string message)
    {
        var e = new MeshEvent(at, level.Wire(), kind.Wire(), subject, message);
        _events.AddLast(e);
        if (_events.Count > Kept) _events.RemoveFirst();
        return e;
    }

    /// <summary>Events a previous director kept (from the store: their text is bounded and escaped, as a report's).</summary>
    public void Restore(IEnumerable<MeshEvent> events)
    {
        foreach (var e in events.TakeLast(Kept))
        {
            _events.AddLast(e with { Message = LogText.Safe(e.Message, 500), Subject = LogText.Safe(e.Subject, 200) });
            if (_events.Count > Kept) _events.RemoveFirst();
        }
    }

    public MeshEvent[] ToArray() => [.. _events];
}
