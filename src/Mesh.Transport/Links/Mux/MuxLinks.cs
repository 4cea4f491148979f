using System.Collections.Concurrent;
using Mesh.Transport.Protocol;

namespace Mesh.Transport.Links.Mux;

/// <summary>
/// This gateway's multiplexed sessions, by peer, whichever side dialed them. A flow opens a stream on the
/// peer's least busy session (no claim, no pool, no handshake); a stream the peer opens is served like a
/// pooled connection the peer claimed. The side that can dial keeps the sessions up (LinkActor's MuxKeeper).
/// </summary>
public sealed class MuxLinks(Action<LinkConnection, Open> onPeerFlow)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<MuxSession, byte>> _byPeer = new();

    /// <summary>
    /// Sessions a peer may have dialed to this gateway at once: its keeper holds two, and after an outage the old
    /// ones linger until their silence shows (7 s). One more is closed at once (the peer's keeper retries).
    /// </summary>
    public const int MaxAcceptedPerPeer = 4;

    /// <summary>A session this side dialed closed (the peer's name): its keeper dials another.</summary>
    public event Action<string>? DialedSessionClosed;

    /// <summary>Starts a session on a fresh connection whose Hello said purpose = mux.</summary>
    public MuxSession Add(LinkConnection transport)
    {
        var session = new MuxSession(transport);
        var sessions = _byPeer.GetOrAdd(session.Peer, _ => new());
        if (!session.Dialed && sessions.Keys.Count(s => !s.Dialed && !s.IsClosed) >= MaxAcceptedPerPeer)
        {
            _ = session.CloseAsync($"{session.Peer} has {MaxAcceptedPerPeer} multiplexed links to this gateway already");
            return session;
        }
        sessions[session] = 0;
        session.StreamOpenedByPeer += (s, stream) =>
        {
            var link = new LinkConnection(socket: null, stream, s.PeerIdentity, dialed: false, LinkPurpose.Mux);
            link.ClaimedByPeerFlow += onPeerFlow;
            link.StartIdleLoop();   // reads the flow's Open
        };
        session.Closed += (s, _) =>
        {
            sessions.TryRemove(s, out byte _);
            if (s.Dialed) DialedSessionClosed?.Invoke(s.Peer);
        };
        session.Start();
        if (transport.IsClosed) _ = session.CloseAsync("closed");
        return session;
    }

    /// <summary>Live sessions to <paramref name="peer"/> that this side dialed.</summary>
    public int DialedCount(string peer) => Sessions(peer).Count(s => s.Dialed && s.CanOpen);

    /// <summary>Streams open on the sessions to <paramref name="peer"/>, either way.</summary>
    public int OpenStreams(string peer) => Sessions(peer).Sum(s => s.OpenStreams);

    /// <summary>Live sessions to <paramref name="peer"/>, either way.</summary>
    public int Count(string peer) => Sessions(peer).Count(s => !s.IsClosed);

    /// <summary>
    /// A stream to <paramref name="peer"/> on its least busy session, as a link connection this side claims
    /// with the flow's Open; null if there is no session to it.
    /// </summary>
    public LinkConnection? Open(string peer)
    {
        MuxSession? best = null;
        foreach (var s in Sessions(peer))
            if (s.CanOpen && (best is null || s.OpenStreams < best.OpenStreams)) best = s;
        if (best?.TryOpen() is not { } stream) return null;
        var link = new LinkConnection(socket: null, stream, best.PeerIdentity, dialed: true, LinkPurpose.Mux);
        link.StartIdleLoop();   // reads the answer to the Open
        return link;
    }

    /// <summary>Closes the sessions to <paramref name="peer"/> that this side dialed (its keeper stops).</summary>
    public async Task CloseDialedAsync(string peer)
    {
        foreach (var s in Sessions(peer).Where(s => s.Dialed).ToList()) await s.CloseAsync("closed");
    }

    private IEnumerable<MuxSession> Sessions(string peer) =>
        _byPeer.TryGetValue(peer, out var sessions) ? sessions.Select(e => e.Key) : [];
}
