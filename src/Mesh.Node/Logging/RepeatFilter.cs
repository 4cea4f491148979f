using Akka.Event;
using Mesh.Contracts.Logging;

namespace Mesh.Node.Logging;

/// <summary>
/// Akka's transport logs an ERROR with a stack of lines for every failed TLS handshake on the cluster port:
/// a refused node that retries, or a scanner, would fill the log. Those lines pass at most once a minute per
/// kind (the refusing validator's own line, RemotingTls, says who and why).
/// </summary>
public static class RepeatFilter
{
    private static readonly LogLimiter Limiter = new(TimeSpan.FromMinutes(1), maxLinesPerWindow: 4);

    public static bool Pass(LogEvent e)
    {
        var source = e.LogSource ?? "";
        if (!source.StartsWith("TcpServerHandler", StringComparison.Ordinal) && !source.StartsWith("TcpClientHandler", StringComparison.Ordinal)) return true;
        var message = e.Message?.ToString() ?? "";
        return Limiter.ShouldLog(source[..Math.Min(source.Length, 16)] + message[..Math.Min(message.Length, 24)], Environment.TickCount64, out _);
    }
}
