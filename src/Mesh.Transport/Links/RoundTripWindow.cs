namespace Mesh.Transport.Links;

/// <summary>
/// The round trip to a peer as paths should see it: the smallest ping answered within the last
/// <see cref="Window"/>. A busy gateway answers pings late (measured: a saturated CPU made a 0.1 ms link
/// read as 5-25 ms, a MySQL benchmark as 700 ms), but it never makes the network faster, so the minimum
/// over a window ignores load and follows the network: a link that really got faster shows it at once, one
/// that really got slower once no ping for a whole window was faster. It is not known until pings were
/// answered for <see cref="KnownAfter"/>: the first pings of a gateway that starts are slow (JIT), and a
/// first round trip taken from them made every link's cost fall back a few seconds later, a republish of
/// every table each. Kept as a monotonic queue (each sample is added and dropped once), since a link with
/// a large pool answers many pings a second.
/// </summary>
public sealed class RoundTripWindow(TimeSpan window)
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan KnownAfter = TimeSpan.FromSeconds(10);
    private const int SamplesBeforeKnown = 3;

    /// <summary>Samples in time order whose round trips grow from front to back: the front is the minimum.</summary>
    private readonly LinkedList<(long AtMs, double Ms)> _rising = new();
    private int _seen;
    private long? _firstAtMs;

    public TimeSpan Window { get; } = window;

    public void Add(double ms, long nowMs)
    {
        lock (_rising)
        {
            _seen = Math.Min(_seen + 1, SamplesBeforeKnown);
            _firstAtMs ??= nowMs;
            while (_rising.Last is { } last && last.Value.Ms >= ms) _rising.RemoveLast();   // never the minimum again
            _rising.AddLast((nowMs, ms));
            DropExpired(nowMs);
        }
    }

    /// <summary>The smallest round trip of the window; null until pings were answered for a while.</summary>
    public double? Min(long nowMs)
    {
        lock (_rising)
        {
            DropExpired(nowMs);
            var known = _seen >= SamplesBeforeKnown && nowMs - _firstAtMs >= (long)KnownAfter.TotalMilliseconds;
            return known && _rising.First is { } first ? first.Value.Ms : null;
        }
    }

    /// <summary>The newest sample always stays: a link whose pings stopped keeps its last known round trip.</summary>
    private void DropExpired(long nowMs)
    {
        while (_rising.Count > 1 && _rising.First!.Value.AtMs < nowMs - (long)Window.TotalMilliseconds) _rising.RemoveFirst();
    }
}
