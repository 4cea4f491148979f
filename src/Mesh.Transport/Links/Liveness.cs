namespace Mesh.Transport.Links;

/// <summary>
/// How idle connections prove they are alive. The dialing side pings each idle connection; the other
/// side answers. A connection not heard from for a while is not claimed for a flow (its site may be
/// offline, or a NAT forgot its mapping), and one silent for longer is closed and redialed.
/// </summary>
public static class Liveness
{
    /// <summary>Idle connections are pinged this often by the side that dialed them...</summary>
    public static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(2);
    /// <summary>...are not claimed once two pings went unanswered (a flow would wait for an answer that cannot come)...</summary>
    public static readonly TimeSpan SuspectAfter = TimeSpan.FromSeconds(5);
    /// <summary>...and are closed when nothing was heard on them for this long (a dead NAT mapping, a vanished peer).</summary>
    public static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(7);
}
