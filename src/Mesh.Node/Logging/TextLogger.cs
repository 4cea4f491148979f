using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Mesh.Contracts.Logging;

namespace Mesh.Node.Logging;

/// <summary>
/// The text logs (the default): Akka's line format, `[LEVEL][time][Thread N][source] message`, with every
/// control character in the message escaped, so that a name or address that came from the network cannot
/// start a forged line. An exception follows on the next lines: its type and (escaped) message, then its stack.
/// </summary>
public sealed class TextLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private static readonly Lock Gate = new();

    public TextLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => { if (RepeatFilter.Pass(e)) Write(e); });
    }

    private static void Write(LogEvent e)
    {
        var level = e.LogLevel() switch
        {
            LogLevel.DebugLevel => "DEBUG",
            LogLevel.InfoLevel => "INFO",
            LogLevel.WarningLevel => "WARNING",
            _ => "ERROR",
        };
        var line = $"[{level}][{e.Timestamp:MM/dd/yyyy HH:mm:ss.fff}Z][Thread {e.Thread.ManagedThreadId:0000}][{LogText.Safe(e.LogSource, 300)}] "
                   + LogText.Safe(e.Message?.ToString(), 4000);
        lock (Gate)
        {
            Console.Out.WriteLine(line);
            if (e.Cause is { } cause)
                Console.Out.WriteLine($"Cause: {cause.GetType().FullName}: {LogText.Safe(cause.Message, 2000)}\n{cause.StackTrace}");
        }
    }
}
