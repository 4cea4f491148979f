using Akka.Event;
using Mesh.Contracts.Logging;
using Mesh.Node.Logging;

namespace Mesh.ControlPlane.Tests;

/// <summary>What a gateway's log holds by default: Mesh's own lines from INFO, Akka's from WARNING.</summary>
public sealed class LogLevelSpec
{
    [Theory]
    [InlineData(LogLevel.InfoLevel, typeof(Mesh.Gateway.Link.LinkActor), false, true)]                 // "link to core2 up"
    [InlineData(LogLevel.DebugLevel, typeof(Mesh.Gateway.Link.LinkActor), false, false)]               // a dial retry inside an outage
    [InlineData(LogLevel.InfoLevel, typeof(Akka.Cluster.Cluster), false, false)]                       // "Cluster Node [..] - Welcome from"
    [InlineData(LogLevel.InfoLevel, typeof(DummyClassForStringSources), false, false)]                 // a line with a string source (remoting's)
    [InlineData(LogLevel.WarningLevel, typeof(Akka.Cluster.Cluster), false, true)]
    [InlineData(LogLevel.ErrorLevel, null, false, true)]
    [InlineData(LogLevel.InfoLevel, typeof(Akka.Cluster.Cluster), true, true)]                         // --log-level debug
    [InlineData(LogLevel.DebugLevel, typeof(Mesh.Gateway.Link.LinkActor), true, true)]
    public void Mesh_lines_pass_from_info_and_Akka_lines_from_warning_unless_debug(LogLevel level, Type? logClass, bool debug, bool passes) =>
        Assert.Equal(passes, NodeLog.Pass(level, logClass, debug));

    [Theory]
    [InlineData(0.42, "0.4s")]
    [InlineData(9.99, "9.9s")]
    [InlineData(12.7, "12s")]
    [InlineData(119, "119s")]
    [InlineData(185, "3m05s")]
    [InlineData(7800, "2h10m")]
    public void An_outage_length_reads_as_a_person_says_it(double seconds, string said) =>
        Assert.Equal(said, LogText.Duration(TimeSpan.FromSeconds(seconds)));
}
