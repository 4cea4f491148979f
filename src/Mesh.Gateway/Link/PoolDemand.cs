namespace Mesh.Gateway.Link;

/// <summary>
/// How many idle connections a gateway keeps dialed towards one peer. At rest, <c>pool_size</c>. When
/// flows take connections faster than they bring them back (a burst of flows towards a site behind NAT,
/// which only this side can dial), as many as were taken and not brought back in the last second, up to
/// <see cref="MaxIdle"/>: the next second will likely take as many, and each one dialed ahead saves that
/// flow a wait. Flows that come one after another take and return the same warm connections and grow
/// nothing: counting claims alone made one client opening 300 connections in a row dial a new TLS
/// connection for nearly each of them. After a quiet spell the surplus is closed again.
/// </summary>
public sealed class PoolDemand(int poolSize)
{
    public const int MaxIdle = 512;
    /// <summary>Dials in flight at once: enough to keep up with a burst, few enough not to starve the flows of CPU.</summary>
    public const int MaxDialsAtOnce = 32;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1), QuietBeforeTrim = TimeSpan.FromSeconds(10);

    private readonly Queue<long> _claims = new(), _returns = new();
    private long _lastClaim = long.MinValue / 2;

    public int PoolSize { get; set; } = poolSize;

    public void Claimed(long nowMs)
    {
        _claims.Enqueue(nowMs);
        _lastClaim = nowMs;
        Expire(nowMs);
    }

    /// <summary>A flow brought a connection back to the idle pool.</summary>
    public void Returned(long nowMs)
    {
        _returns.Enqueue(nowMs);
        Expire(nowMs);
    }

    /// <summary>The idle connections to keep now.</summary>
    public int Target(long nowMs)
    {
        Expire(nowMs);
        return Math.Clamp(_claims.Count - _returns.Count, PoolSize, Math.Max(PoolSize, MaxIdle));
    }

    /// <summary>
    /// How many idle dialed connections flows may bring back (LinkPool.DialedIdleCap): at rest twice pool_size
    /// (a flow that ends while the dialer's replacement for it is already up brings one more than the pool
    /// holds), and while flows come and go, as many as the last second claimed (up to <see cref="MaxIdle"/>).
    /// Concurrent short flows (50 clients connecting for each request) swing the connections in use by more
    /// than pool_size: a cap of twice pool_size closed returned connections on the up-swing and dialed new ones
    /// on the down-swing, a TLS handshake for every second flow (2,400 dials per 5,000 flows, issue 18). What
    /// stays idle after the flows stop is trimmed after a quiet spell (<see cref="Surplus"/>).
    /// </summary>
    public int ReturnCap(long nowMs)
    {
        var target = Target(nowMs);   // expires the window first
        return Math.Max(target, Math.Max(2 * PoolSize, Math.Min(_claims.Count, MaxIdle)));
    }

    /// <summary>How many dials to start, given the idle connections and the dials already in flight.</summary>
    public int DialsToStart(long nowMs, int idle, int inFlight) =>
        Math.Max(0, Math.Min(Target(nowMs) - idle - inFlight, MaxDialsAtOnce - inFlight));

    /// <summary>How many idle connections to close: those above pool_size, once nothing was claimed for a while.</summary>
    public int Surplus(long nowMs, int idle) =>
        nowMs - _lastClaim >= QuietBeforeTrim.TotalMilliseconds ? Math.Max(0, idle - PoolSize) : 0;

    private void Expire(long nowMs)
    {
        foreach (var events in (Queue<long>[])[_claims, _returns])
            while (events.TryPeek(out var t) && nowMs - t > Window.TotalMilliseconds) events.Dequeue();
    }
}
