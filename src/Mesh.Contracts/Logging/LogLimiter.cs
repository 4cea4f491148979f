namespace Mesh.Contracts.Logging;

/// <summary>
/// Keeps a flood from becoming a flood of log lines: one line per key (a source address and what went wrong)
/// per <see cref="Window"/>, and at most <see cref="MaxLinesPerWindow"/> lines per window in all. What was
/// held back is counted and said with the next line of that key. Pure: the caller passes the time.
/// </summary>
public sealed class LogLimiter(TimeSpan window, int maxLinesPerWindow = 10)
{
    public TimeSpan Window { get; } = window;
    public int MaxLinesPerWindow { get; } = maxLinesPerWindow;

    private readonly Dictionary<string, (long LastMs, int Held)> _keys = [];
    private long _windowStart = long.MinValue;
    private int _linesInWindow, _heldOverall;
    private readonly Lock _gate = new();

    /// <summary>Whether to log this occurrence now; <paramref name="held"/> is how many of this key were not logged since its last line.</summary>
    public bool ShouldLog(string key, long nowMs, out int held)
    {
        lock (_gate)
        {
            if (nowMs - _windowStart >= Window.TotalMilliseconds) (_windowStart, _linesInWindow) = (nowMs, 0);
            if (_keys.Count > 10_000) _keys.Clear();   // a flood of distinct sources must not grow memory
            _keys.TryGetValue(key, out var k);
            var due = k.LastMs == 0 || nowMs - k.LastMs >= Window.TotalMilliseconds;
            if (!due || _linesInWindow >= MaxLinesPerWindow)
            {
                _keys[key] = (k.LastMs == 0 ? nowMs - (long)Window.TotalMilliseconds : k.LastMs, k.Held + 1);
                _heldOverall++;
                held = 0;
                return false;
            }
            _linesInWindow++;
            held = k.Held;
            _keys[key] = (nowMs, 0);
            return true;
        }
    }

    /// <summary>How many lines were held back in all (for a summary), and resets the count.</summary>
    public int TakeHeld()
    {
        lock (_gate)
        {
            var n = _heldOverall;
            _heldOverall = 0;
            return n;
        }
    }
}
