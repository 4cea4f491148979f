using System.Text.Encodings.Web;
using System.Text.Json;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Mesh.Node.Logging;

/// <summary>
/// `--log-format json`: every log line as one JSON object on stdout, for log collectors
/// ({"time", "level", "node", "source", "message"}, plus "error" when an exception came with it: with its stack
/// for Mesh's own, its type and message only for one inside Akka unless --log-level debug). "node" is the
/// gateway's name.
/// </summary>
public sealed class JsonLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public JsonLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => { if (NodeLog.Pass(e) && RepeatFilter.Pass(e)) Write(e); });
    }

    internal static void Write(LogEvent e)
    {
        var error = e.Cause is not { } cause ? null
            : NodeLog.WithStack(e) ? cause.ToString() : $"{cause.GetType().FullName}: {cause.GetBaseException().Message}";
        JsonLines.Write(e.Timestamp, Level(e.LogLevel()), e.LogSource, e.Message?.ToString() ?? "", error);
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.DebugLevel => "debug",
        LogLevel.InfoLevel => "info",
        LogLevel.WarningLevel => "warning",
        _ => "error",
    };
}

/// <summary>Writes one log line as JSON; the node's own lines (Say) use it too, so stdout holds nothing else.</summary>
public static class JsonLines
{
    private static readonly Lock Gate = new();

    public static void Write(DateTime time, string level, string source, string message, string? error = null)
    {
        var line = JsonSerializer.Serialize(new
        {
            time = new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToString("O"),
            level,
            node = NodeLog.Gateway,
            source,
            message,
            error,
        }, Options);
        lock (Gate) Console.Out.WriteLine(line);
    }

    /// <summary>
    /// Written plainly ("+00:00", not System.Text.Json's default "\u002B00:00"): a log line is never HTML. Control
    /// characters are still escaped, so text from the network cannot end a line.
    /// </summary>
    private static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
