using Akka.Event;
using Mesh.Contracts.Logging;

namespace Mesh.Node.Logging;

/// <summary>
/// Lines of Akka's that repeat while one thing stays wrong pass at most once a minute per kind:
/// <list type="bullet">
/// <item>the transport's ERROR with a stack for every failed TLS handshake on the cluster port (a refused
/// node that retries, or a scanner; the refusing validator's own line, RemotingTls, says who and why);</item>
/// <item>remoting's "Tried to associate with unreachable remote address [X]" every 2 s (retry-gate-closed-for)
/// while a member is down or gone (the member log and the link lines say so once).</item>
/// </list>
/// </summary>
public static class RepeatFilter
{
    private static readonly LogLimiter Limiter = new(TimeSpan.FromMinutes(1), maxLinesPerWindow: 4);
    private const string Unreachable = "Tried to associate with unreachable remote address [";

    public static bool Pass(LogEvent e)
    {
        var source = e.LogSource ?? "";
        var message = e.Message?.ToString() ?? "";
        if (message.StartsWith(Unreachable, StringComparison.Ordinal))
        {
            var end = message.IndexOf(']', Unreachable.Length);
            return Limiter.ShouldLog(end < 0 ? Unreachable : message[..end], Environment.TickCount64, out _);
        }
        if (!source.StartsWith("TcpServerHandler", StringComparison.Ordinal) && !source.StartsWith("TcpClientHandler", StringComparison.Ordinal)) return true;
        return Limiter.ShouldLog(source[..Math.Min(source.Length, 16)] + message[..Math.Min(message.Length, 24)], Environment.TickCount64, out _);
    }
}
