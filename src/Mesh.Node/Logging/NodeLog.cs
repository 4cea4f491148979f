using Akka.Event;

namespace Mesh.Node.Logging;

/// <summary>
/// What every log line of this process shares, set once at start (Program): the gateway's name, which each
/// line carries (several gateways' logs are often followed together), and how much is said.
/// </summary>
public static class NodeLog
{
    /// <summary>The gateway's name; empty in tests that never start a node.</summary>
    public static string Gateway { get; private set; } = "";

    /// <summary>--log-level debug: Akka's own lines at every level, Mesh's debug lines, and every exception's stack.</summary>
    public static bool Debug { get; private set; }

    /// <summary>--log-format json (for the logger of last resort, StdoutLogger, which Akka creates without settings).</summary>
    public static bool Json { get; private set; }

    public static void Configure(string gateway, bool debug, bool json) => (Gateway, Debug, Json) = (gateway, debug, json);

    /// <summary>
    /// Mesh's own lines pass from INFO, Akka's (remoting, cluster, DotNetty, singleton…) from WARNING: they
    /// describe Akka's work, not the mesh's, and were most of a core gateway's log. A Mesh actor logs through
    /// Context.GetLogger(), whose class is the actor's own.
    /// </summary>
    public static bool Pass(LogEvent e) => Pass(e.LogLevel(), e.LogClass, Debug);

    public static bool Pass(LogLevel level, Type? logClass, bool debug) =>
        debug || level >= LogLevel.WarningLevel || (level >= LogLevel.InfoLevel && IsMesh(logClass));

    /// <summary>An exception's stack is Mesh's to read (a bug); an exception inside Akka is said on one line, its stack only with --log-level debug.</summary>
    public static bool WithStack(LogEvent e) => Debug || IsMesh(e.LogClass);

    public static bool IsMesh(Type? logClass) => logClass?.Namespace is { } ns && (ns == "Mesh" || ns.StartsWith("Mesh.", StringComparison.Ordinal));
}
