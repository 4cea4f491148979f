namespace Mesh.Gateway.Link;

/// <summary>
/// Which failed dials of a link (or of an edge's control channel) are said at WARNING: the first of an outage
/// (none once its loss was said), and a refusal by the peer once per reason, inside an outage too: waiting does
/// not heal a refusal, the operator must act. The rest are debug lines.
/// </summary>
public sealed class DialFailureLog
{
    private bool _said;
    private string? _lastRefusal;

    /// <summary>The outage was said already: the loss that began it was logged.</summary>
    public void OutageSaid() => _said = true;

    /// <returns>true: say this failure at WARNING</returns>
    public bool Failed(string error, bool refused)
    {
        var warn = refused ? error != _lastRefusal : !_said;
        (_said, _lastRefusal) = (true, refused ? error : _lastRefusal);
        return warn;
    }

    /// <summary>A dial worked: the next failure begins a new outage.</summary>
    public void Connected() => (_said, _lastRefusal) = (false, null);
}
