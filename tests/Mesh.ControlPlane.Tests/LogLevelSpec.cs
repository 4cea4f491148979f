using Akka.Event;
using Mesh.Node.Logging;

namespace Mesh.ControlPlane.Tests;

/// <summary>What a gateway's log holds by default: Mesh's own lines from INFO, Akka's from WARNING.</summary>
public sealed class LogLevelSpec
{
    [Theory]
    [InlineData(LogLevel.InfoLevel, typeof(Mesh.Gateway.Link.LinkActor), false, true)]                 // "link to core2 up"
    [InlineData(LogLevel.DebugLevel, typeof(Mesh.Gateway.Link.LinkActor), false, false)]
    [InlineData(LogLevel.InfoLevel, typeof(Akka.Cluster.Cluster), false, false)]                       // "Cluster Node [..] - Welcome from"
    [InlineData(LogLevel.InfoLevel, typeof(DummyClassForStringSources), false, false)]                 // a line with a string source (remoting's)
    [InlineData(LogLevel.WarningLevel, typeof(Akka.Cluster.Cluster), false, true)]
    [InlineData(LogLevel.ErrorLevel, null, false, true)]
    [InlineData(LogLevel.InfoLevel, typeof(Akka.Cluster.Cluster), true, true)]                         // --log-level debug
    [InlineData(LogLevel.DebugLevel, typeof(Mesh.Gateway.Link.LinkActor), true, true)]
    public void Mesh_lines_pass_from_info_and_Akka_lines_from_warning_unless_debug(LogLevel level, Type? logClass, bool debug, bool passes) =>
        Assert.Equal(passes, NodeLog.Pass(level, logClass, debug));
}
