using Mesh.Config;
using Mesh.Contracts.Metrics;
using Mesh.Gateway.Flows;
using Mesh.Transport.Links;
using Mesh.Transport.Protocol;

namespace Mesh.Gateway.Link;

/// <summary>
/// Keeps <see cref="SessionsPerPeer"/> multiplexed sessions dialed to one peer while the link mode is mux
/// (none otherwise), and dials another as soon as one is lost, with <see cref="LinkActor.Backoff"/> between
/// failures. The peer's LinkActor owns it; the pool it also keeps warm still tests the link (its pings).
/// </summary>
internal sealed class MuxKeeper(string peer, FlowContext ctx, Action<string> debug) : IDisposable
{
    /// <summary>
    /// Two, not one: each session's TLS runs on one core at a time, and this machine has two; more would
    /// split the batches a session writes (several flows' frames in one write) into smaller ones.
    /// </summary>
    public const int SessionsPerPeer = 2;

    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private volatile IReadOnlyList<string> _addresses = [];
    private volatile int _wanted;
    private bool _started;

    /// <summary>Where the peer listens and how many sessions to keep (0: link mode pool).</summary>
    public void Target(IReadOnlyList<string> addresses, int sessions)
    {
        (_addresses, _wanted) = (addresses, sessions);
        if (sessions == 0) _ = ctx.Links.Mux.CloseDialedAsync(peer);
        if (sessions > 0 && !_started)
        {
            _started = true;
            ctx.Links.Mux.DialedSessionClosed += OnClosed;
            _ = KeepAsync();
        }
        _wake.Release();
    }

    private void OnClosed(string closedPeer)
    {
        if (closedPeer == peer) _wake.Release();
    }

    private async Task KeepAsync()
    {
        var (failures, next) = (0, 0);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var addresses = _addresses;
                if (_wanted <= ctx.Links.Mux.DialedCount(peer) || addresses.Count == 0)
                {
                    await _wake.WaitAsync(_stop.Token);   // a session closed, or the target changed
                    continue;
                }
                var address = addresses[next++ % addresses.Count];
                try
                {
                    MeshMeter.Dials.Add(1, new KeyValuePair<string, object?>("peer", peer));
                    var link = await LinkHandshake.DialAsync(ctx.Identity, peer, Endpoints.Parse(address), FlowContext.LinkDialTimeout, _stop.Token,
                        ctx.Trust, LinkPurpose.Mux);
                    if (_stop.IsCancellationRequested || _wanted == 0)
                    {   // stopped (or back to link mode pool) while dialing: nobody would close it
                        await link.DisposeAsync();
                        continue;
                    }
                    ctx.Links.Add(link);
                    failures = 0;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures++;
                    debug($"multiplexed link to {peer}: {e.GetBaseException().Message}; retrying");
                    await _wake.WaitAsync(LinkActor.Backoff(failures), _stop.Token);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    public void Dispose()
    {
        _stop.Cancel();
        ctx.Links.Mux.DialedSessionClosed -= OnClosed;
        _ = ctx.Links.Mux.CloseDialedAsync(peer);
    }
}
