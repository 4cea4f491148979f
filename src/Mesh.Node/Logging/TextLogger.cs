using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Mesh.Contracts.Logging;

namespace Mesh.Node.Logging;

/// <summary>
/// The text logs (the default): the gateway's name, then Akka's line format,
/// `core1: [LEVEL][time][Thread N][source] message`, with every control character in the message escaped, so
/// that a name or address that came from the network cannot start a forged line. An exception follows on
/// the next lines: its type and (escaped) message, then its stack (an exception inside Akka: its type and
/// message on the same line, the stack only with --log-level debug).
/// </summary>
public sealed class TextLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private static readonly Lock Gate = new();

    public TextLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => { if (NodeLog.Pass(e) && RepeatFilter.Pass(e)) Write(e); });
    }

    internal static void Write(LogEvent e)
    {
        var level = e.LogLevel() switch
        {
            LogLevel.DebugLevel => "DEBUG",
            LogLevel.InfoLevel => "INFO",
            LogLevel.WarningLevel => "WARNING",
            _ => "ERROR",
        };
        var message = LogText.Safe(e.Message?.ToString(), 4000);
        var stack = NodeLog.WithStack(e);
        if (e.Cause is { } brief && !stack) message += $" ({brief.GetType().Name}: {LogText.Safe(brief.GetBaseException().Message, 500)})";
        var line = Line(level, e.Timestamp, e.Thread.ManagedThreadId, LogText.Safe(e.LogSource, 300), message);
        lock (Gate)
        {
            Console.Out.WriteLine(line);
            if (e.Cause is { } cause && stack)
                Console.Out.WriteLine($"Cause: {cause.GetType().FullName}: {LogText.Safe(cause.Message, 2000)}\n{cause.StackTrace}");
        }
    }

    /// <summary>One text line; the node's own lines (Program) use it too, so that every line reads alike.</summary>
    public static string Line(string level, DateTime time, int thread, string source, string message) =>
        $"{(NodeLog.Gateway.Length > 0 ? NodeLog.Gateway + ": " : "")}[{level}][{time:MM/dd/yyyy HH:mm:ss.fff}Z][Thread {thread:0000}][{source}] {message}";

    /// <summary>Writes one of the node's own lines (not from an actor) to <paramref name="to"/>.</summary>
    public static void Write(TextWriter to, string level, string message)
    {
        var line = Line(level, DateTime.UtcNow, Environment.CurrentManagedThreadId, "Mesh.Node", LogText.Safe(message, 4000));
        lock (Gate) to.WriteLine(line);
    }
}
