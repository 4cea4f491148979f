using Akka.Actor;

namespace Mesh.Gateway;

/// <summary>
/// What the failure of one of the gateway's actors means, by kind (told apart by name). Akka's default,
/// a restart, is wrong for most of them: a restarted actor starts again from the arguments it was created
/// with and loses what it learned since.
/// <list type="bullet">
/// <item>The gateway's parts (<c>routes</c>, <c>data-plane</c>, <c>reports</c>, <c>peer-flows</c>) resume: a restart
/// would stop their children (every entry, link and probe, or every flow peers opened) and forget the table
/// held, or the reports' sequence numbers; the failure was one message's.</item>
/// <item>A flow (<c>TunnelActor</c>, unnamed) stops: restarted, it would run the flow a second time on sockets
/// the first run consumed.</item>
/// <item>An entry (<c>listener-N</c>) and a link (<c>link-PEER</c>) resume: the failure was one message's; a
/// restart would close the entry's socket and cut its clients, or close the link's warm connections, and
/// come back with the allow list, limits, addresses and pool size they were created with, not the current
/// ones.</item>
/// <item>A health probe (<c>probe-N</c>) and the edge's control channel (<c>control</c>) restart: all they hold
/// is a count of probes, or a connection, which they build again.</item>
/// </list>
/// An actor whose constructor failed stops, whatever it is.
/// </summary>
public static class ChildFailure
{
    public const string ListenerPrefix = "listener-", LinkPrefix = "link-", ProbePrefix = "probe-", Control = "control";
    public const string Routes = "routes", DataPlane = "data-plane", Reports = "reports", PeerFlows = "peer-flows";

    public static Directive For(string childName) => childName switch
    {
        _ when childName.StartsWith(ListenerPrefix, StringComparison.Ordinal) => Directive.Resume,
        _ when childName.StartsWith(LinkPrefix, StringComparison.Ordinal) => Directive.Resume,
        _ when childName.StartsWith(ProbePrefix, StringComparison.Ordinal) => Directive.Restart,
        Control => Directive.Restart,
        Routes or DataPlane or Reports or PeerFlows => Directive.Resume,
        _ => Directive.Stop,
    };

    /// <summary>The gateway's strategy: each child on its own, as <see cref="For"/> says.</summary>
    public static SupervisorStrategy ByChildName() => new ByName();

    /// <summary>A parent whose children are all flows: a failed flow stops.</summary>
    public static SupervisorStrategy FlowsStop() => new OneForOneStrategy(_ => Directive.Stop);

    private sealed class ByName() : OneForOneStrategy(_ => Directive.Stop)
    {
        protected override Directive Handle(IActorRef child, Exception exception) =>
            exception is ActorInitializationException ? Directive.Stop : For(child.Path.Name);
    }
}
