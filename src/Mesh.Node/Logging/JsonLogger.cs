using System.Text.Json;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Mesh.Node.Logging;

/// <summary>
/// `--log-format json`: every log line as one JSON object on stdout, for log collectors
/// ({"time", "level", "node", "source", "message"}, plus "error" when an exception came with it).
/// </summary>
public sealed class JsonLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public JsonLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => { if (RepeatFilter.Pass(e)) JsonLines.Write(e.Timestamp, Level(e.LogLevel()), e.LogSource, e.Message?.ToString() ?? "", e.Cause); });
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
    /// <summary>The gateway's name, on every line (set once at start).</summary>
    public static string Node { get; set; } = "";

    private static readonly Lock Gate = new();

    public static void Write(DateTime time, string level, string source, string message, Exception? error = null)
    {
        var line = JsonSerializer.Serialize(new
        {
            time = new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToString("O"),
            level,
            node = Node,
            source,
            message,
            error = error?.ToString(),
        }, Options);
        lock (Gate) Console.Out.WriteLine(line);
    }

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
}
