using Mesh.Contracts.Health;

namespace Mesh.Gateway.Health;

/// <summary>
/// Rise and fall: a service is down after <c>fall</c> failed probes in a row and up again after <c>rise</c>
/// good ones, so one lost probe does not flap it. A service not known yet takes the state of its first
/// probe: an entry should not wait fall × interval to learn that a service was never there.
/// </summary>
public sealed class HealthTracker(int rise, int fall)
{
    private int _streak;
    private bool _lastOk;

    public HealthState State { get; private set; } = HealthState.Unknown;

    /// <summary>The reason of the latest failure while down (kept while the service stays down).</summary>
    public string? Reason { get; private set; }

    /// <summary>Feeds one probe result; true when the state changed.</summary>
    public bool Observe(string? failure)
    {
        var ok = failure is null;
        _streak = ok == _lastOk ? _streak + 1 : 1;
        _lastOk = ok;
        if (!ok && State != HealthState.Up) Reason = failure;
        var next = State switch
        {
            HealthState.Unknown => ok ? HealthState.Up : HealthState.Down,
            HealthState.Up when !ok && _streak >= fall => HealthState.Down,
            HealthState.Down when ok && _streak >= rise => HealthState.Up,
            _ => State,
        };
        if (next == State) return false;
        State = next;
        Reason = ok ? null : failure;
        return true;
    }
}
