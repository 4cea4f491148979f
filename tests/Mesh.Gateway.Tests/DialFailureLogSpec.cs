using Mesh.Gateway.Link;

namespace Mesh.Gateway.Tests;

/// <summary>One warning per outage, one per refusal reason: what the link and control channel logs rely on.</summary>
public sealed class DialFailureLogSpec
{
    [Fact]
    public void The_first_failure_of_an_outage_and_each_new_refusal_are_warnings_the_rest_debug()
    {
        var log = new DialFailureLog();
        Assert.True(log.Failed("connection refused", refused: false));
        Assert.False(log.Failed("timed out", refused: false));
        Assert.True(log.Failed("core1 refused this gateway: not declared", refused: true));   // the operator must act
        Assert.False(log.Failed("core1 refused this gateway: not declared", refused: true));
        Assert.True(log.Failed("core1 refused this gateway: revoked", refused: true));
        log.Connected();
        log.OutageSaid();   // the next outage's loss was logged
        Assert.False(log.Failed("connection refused", refused: false));
        Assert.True(log.Failed("core1 refused this gateway: revoked", refused: true));   // said again after a working spell
    }
}
