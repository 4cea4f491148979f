using Akka.Event;

namespace Mesh.Node.Logging;

/// <summary>
/// Akka's logger of last resort (akka.stdout-logger-class): it prints while an actor system starts and
/// after its loggers have stopped, i.e. the last lines of every stop. Its lines go through the same filter
/// and format as the others (Akka's own prints them plain, at akka.loglevel: INFO lines without the
/// gateway's name were the last ones of every stop).
/// </summary>
public sealed class StdoutLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        if (message is not LogEvent e || !NodeLog.Pass(e) || !RepeatFilter.Pass(e)) return;
        if (NodeLog.Json) JsonLogger.Write(e);
        else TextLogger.Write(e);
    }
}
