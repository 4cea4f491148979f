namespace Mesh.Gateway.Link;

/// <summary>
/// How many idle connections a gateway keeps dialed towards one peer. At rest, <c>pool_size</c>. When
/// the peer claims them fast (a burst of flows towards a site behind NAT, which only this side can
/// dial), as many as it claimed in the last second, up to <see cref="MaxIdle"/>: the next second will
/// likely claim as many, and each one dialed ahead saves that flow a wait. After a quiet spell the
/// surplus is closed again.
/// </summary>
public sealed class PoolDemand(int poolSize)
{
    public const int MaxIdle = 512;
    /// <summary>Dials in flight at once: enough to keep up with a burst, few enough not to starve the flows of CPU.</summary>
    public const int MaxDialsAtOnce = 32;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1), QuietBeforeTrim = TimeSpan.FromSeconds(10);

    private readonly Queue<long> _claims = new();
    private long _lastClaim = long.MinValue / 2;

    public int PoolSize { get; set; } = poolSize;

    public void Claimed(long nowMs)
    {
        _claims.Enqueue(nowMs);
        _lastClaim = nowMs;
        Expire(nowMs);
    }

    /// <summary>The idle connections to keep now.</summary>
    public int Target(long nowMs)
    {
        Expire(nowMs);
        return Math.Clamp(_claims.Count, PoolSize, Math.Max(PoolSize, MaxIdle));
    }

    /// <summary>How many dials to start, given the idle connections and the dials already in flight.</summary>
    public int DialsToStart(long nowMs, int idle, int inFlight) =>
        Math.Max(0, Math.Min(Target(nowMs) - idle - inFlight, MaxDialsAtOnce - inFlight));

    /// <summary>How many idle connections to close: those above pool_size, once nothing was claimed for a while.</summary>
    public int Surplus(long nowMs, int idle) =>
        nowMs - _lastClaim >= QuietBeforeTrim.TotalMilliseconds ? Math.Max(0, idle - PoolSize) : 0;

    private void Expire(long nowMs)
    {
        while (_claims.TryPeek(out var t) && nowMs - t > Window.TotalMilliseconds) _claims.Dequeue();
    }
}
