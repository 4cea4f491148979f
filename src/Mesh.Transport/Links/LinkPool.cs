using System.Collections.Concurrent;
using Mesh.Transport.Protocol;

namespace Mesh.Transport.Links;

/// <summary>
/// The idle connections to one peer, whichever side dialed them. A local flow claims one; the peer may
/// claim one too. Every dialed connection leaves the pool exactly once (claimed by either side, or lost),
/// and <see cref="DialedConnectionGone"/> then tells the dialing side to open a replacement.
/// </summary>
public sealed class LinkPool(string peer)
{
    private readonly ConcurrentDictionary<LinkConnection, byte> _idle = new();
    private TaskCompletionSource _added = NewSignal();

    public string Peer { get; } = peer;

    /// <summary>
    /// How many idle connections this side dialed the pool keeps when flows return them, set by the dialing
    /// side alone (LinkActor, from PoolDemand.ReturnCap: it grows with demand). Returned connections beyond
    /// it are closed; a cap below the target made the dialer close returned connections and dial new ones, a
    /// TLS handshake per flow (measured: 1,600 new flows/s fell to 500).
    /// </summary>
    public int DialedIdleCap { get; set; }

    public int IdleCount => _idle.Count;
    /// <summary>Kept as a counter: counting the idle set took all its locks on every claim (up to 512 entries in a burst).</summary>
    public int DialedIdleCount => Volatile.Read(ref _dialedIdle);

    private int _dialedIdle;

    /// <summary>The idle connections, enumerated without locks or a copy (ConcurrentDictionary.Keys takes every lock and copies).</summary>
    private IEnumerable<LinkConnection> Idle => _idle.Select(e => e.Key);

    /// <summary>
    /// The round-trip time to the peer: the smallest ping answered within the last 30 s on connections this
    /// side dialed (null for the first 10 s of pings), so that a busy moment does not make the link look slow
    /// (<see cref="RoundTripWindow"/>).
    /// </summary>
    public double? RttMs => _roundTrips.Min(Environment.TickCount64);

    private readonly RoundTripWindow _roundTrips = new(RoundTripWindow.DefaultWindow);

    private void OnRoundTrip(double ms) => _roundTrips.Add(ms, Environment.TickCount64);

    /// <summary>
    /// The peer dialed connections to us, and one of them is idle and was heard from within
    /// <paramref name="within"/>: the peer's side of the link works (it pings them), whatever its reports say.
    /// </summary>
    public bool PeerDialedAlive(TimeSpan within) => Idle.Any(c => !c.Dialed && c.MillisSinceHeard < within.TotalMilliseconds);

    /// <summary>
    /// This side dialed a connection that is idle and was heard from within <paramref name="within"/>: the
    /// link works through it, whatever happened to older connections.
    /// </summary>
    public bool DialedAlive(TimeSpan within) => Idle.Any(c => c.Dialed && c.MillisSinceHeard < within.TotalMilliseconds);

    /// <summary>A connection this side dialed left the pool; the reason is null when a flow claimed it, else why it was lost.</summary>
    public event Action<LinkPool, string?>? DialedConnectionGone;

    /// <summary>A connection this side dialed came back to the pool when its flow ended (the dialer needs no replacement for it).</summary>
    public event Action<LinkPool>? DialedConnectionReturned;

    internal void Add(LinkConnection link, Action<LinkConnection, Open> onPeerFlow)
    {
        link.ClaimedByPeerFlow += (c, open) =>
        {
            Leave(c, lostBecause: null);
            onPeerFlow(c, open);
        };
        link.Lost += (c, reason) => Leave(c, reason);
        link.RoundTrip += OnRoundTrip;
        link.Pooled = true;
        Join(link);
    }

    /// <summary>
    /// Takes back a connection whose flow ended cleanly, so the next flow costs no handshake. The dialing
    /// side keeps at most <see cref="DialedIdleCap"/> (the pool refills on claims, so returns would
    /// otherwise pile up after a burst); false means the caller closes it.
    /// </summary>
    internal bool Return(LinkConnection link)
    {
        if (!link.Pooled || (link.Dialed && DialedIdleCount >= DialedIdleCap) || !link.TryReturnToIdle()) return false;
        Join(link);
        if (link.Dialed) DialedConnectionReturned?.Invoke(this);
        return true;
    }

    private void Join(LinkConnection link)
    {
        if (_idle.TryAdd(link, 0) && link.Dialed) Interlocked.Increment(ref _dialedIdle);
        link.StartIdleLoop();
        Interlocked.Exchange(ref _added, NewSignal()).TrySetResult();
    }

    private bool Leave(LinkConnection link, string? lostBecause)
    {
        if (!_idle.TryRemove(link, out _)) return false;
        if (!link.Dialed) return true;
        Interlocked.Decrement(ref _dialedIdle);
        DialedConnectionGone?.Invoke(this, lostBecause);
        return true;
    }

    /// <summary>
    /// Claims an idle connection for <paramref name="open"/>, waiting up to <paramref name="waitForIdle"/>
    /// for one to be added if none is idle; while the peer keeps adding connections (others took them
    /// first: a burst), the wait goes on, up to four times as long in all. Returns the connection when
    /// the peer accepted or refused.
    /// Connections not heard from within <see cref="Liveness.SuspectAfter"/> are passed over.
    /// </summary>
    public async Task<(LinkConnection? Link, ClaimResult Result)> ClaimAsync(Open open, TimeSpan waitForIdle, TimeSpan answerTimeout, CancellationToken ct)
    {
        var deadline = Environment.TickCount64 + (long)waitForIdle.TotalMilliseconds;
        var longest = Environment.TickCount64 + 4 * (long)waitForIdle.TotalMilliseconds;
        string? lastError = null;
        while (true)
        {
            var added = Volatile.Read(ref _added).Task;
            foreach (var link in Idle)
            {
                if (link.MillisSinceHeard > Liveness.SuspectAfter.TotalMilliseconds)
                {
                    lastError = $"the idle connections to {Peer} are silent (offline?)";
                    continue;
                }
                if (!link.IsIdle || !Leave(link, lostBecause: null)) continue;   // Leave() makes us the only local claimant
                var result = await link.ClaimAsync(open, answerTimeout, ct);
                if (result.Status is ClaimStatus.Accepted or ClaimStatus.Refused) return (link, result);
                lastError = result.Error ?? lastError;          // NotIdle/Collision: the peer took it; Failed: it was dead
            }
            var left = deadline - Environment.TickCount64;
            if (left <= 0) return (null, new ClaimResult(ClaimStatus.Failed, Error: lastError ?? $"no idle link to {Peer}"));
            if (await Task.WhenAny(added, Task.Delay(TimeSpan.FromMilliseconds(left), ct)) == added)
                deadline = Math.Min(Environment.TickCount64 + (long)waitForIdle.TotalMilliseconds, longest);   // the peer is alive and adding
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Fresh dials this side runs at once for flows that found no idle connection: half the handshake slots of
    /// the peer's link port (<see cref="LinkServer.MaxHandshakes"/>), which resets a connection that waits longer
    /// than <see cref="LinkServer.SlotWait"/> for one. A burst of thousands of flows dialing one connection
    /// each, all at once, took every slot there and had hundreds of its own dials reset (issue 18); this side's
    /// pool keeper (at most 32 dials at once) and other gateways share the other half.
    /// </summary>
    public const int FreshDialsAtOnce = LinkServer.MaxHandshakes / 2;

    private readonly SemaphoreSlim _freshDials = new(FreshDialsAtOnce, FreshDialsAtOnce);

    /// <summary>
    /// Waits up to <paramref name="wait"/> for a turn to dial a fresh connection (false: none came). The flows
    /// of a burst wait in turn, in the order they asked; each gives its turn back with
    /// <see cref="EndFreshDial"/> once its handshake is over.
    /// </summary>
    public Task<bool> AwaitFreshDialAsync(TimeSpan wait, CancellationToken ct) => _freshDials.WaitAsync(wait, ct);

    public void EndFreshDial() => _freshDials.Release();

    /// <summary>
    /// Claims a connection that was just dialed for this flow alone (no idle one was there); it never
    /// joins the pool, so its use does not ask for a replacement.
    /// </summary>
    internal static Task<ClaimResult> ClaimFreshAsync(LinkConnection link, Open open, TimeSpan answerTimeout, CancellationToken ct)
    {
        link.StartIdleLoop();
        return link.ClaimAsync(open, answerTimeout, ct);
    }

    /// <summary>Pings idle connections this side dialed and closes any that has been silent too long.</summary>
    public void Sweep(TimeSpan deadAfter)
    {
        foreach (var link in Idle)
        {
            if (link.MillisSinceHeard >= deadAfter.TotalMilliseconds) _ = link.CloseIfIdleAsync("silent too long");
            else if (link.Dialed) _ = link.PingAsync();
        }
    }

    /// <summary>The reason given when a surplus connection is closed on purpose (not a loss to report).</summary>
    public const string SurplusClosed = "surplus after a burst";

    /// <summary>Closes up to <paramref name="count"/> idle connections this side dialed (a burst is over).</summary>
    public async Task CloseDialedSurplusAsync(int count)
    {
        foreach (var link in Idle.Where(l => l.Dialed).Take(count).ToList()) await link.CloseIfIdleAsync(SurplusClosed);
    }

    /// <summary>Closes every idle connection (the peer left the mesh, or this gateway stops).</summary>
    public async Task CloseAllAsync()
    {
        foreach (var link in Idle) await link.CloseIfIdleAsync("closed");
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
