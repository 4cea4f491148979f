namespace Mesh.Transport.Flows;

/// <summary>Bytes a flow moved each way and when it last moved any (for the idle timeout).</summary>
internal sealed class FlowActivity
{
    private long _last = Environment.TickCount64;
    private long _up, _down;
    public volatile bool TimedOut;
    public long Up => Interlocked.Read(ref _up);
    public long Down => Interlocked.Read(ref _down);
    public TimeSpan IdleFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _last));

    public void Moved(int n, bool up)
    {
        Interlocked.Exchange(ref _last, Environment.TickCount64);
        if (up) Interlocked.Add(ref _up, n); else Interlocked.Add(ref _down, n);
    }

    /// <summary>A timer that calls <paramref name="onIdle"/> once the flow has moved nothing for <paramref name="timeout"/>.</summary>
    public Timer? WatchIdle(TimeSpan timeout, Action onIdle) =>
        timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan
            ? new Timer(_ =>
            {
                if (TimedOut || IdleFor <= timeout) return;
                TimedOut = true;
                onIdle();
            }, null, timeout / 4, timeout / 4)
            : null;
}
