namespace Mesh.Gateway.Control;

/// <summary>
/// When a gateway's report to the director (links, health) is due: when its content changed, when the
/// last one is not acknowledged yet (a channel may be lost with it in flight), and every
/// <paramref name="refreshEvery"/> in any case (a director that just took over has heard nothing yet).
/// </summary>
public sealed class ReportSchedule(TimeSpan refreshEvery)
{
    private string _lastSent = "";
    private DateTimeOffset _sentAt = DateTimeOffset.MinValue;
    /// <summary>
    /// Starts from the clock, so a gateway that restarts goes on numbering above its last run: the director
    /// drops a report older than one it applied (a resend may arrive after a newer one, through another core gateway).
    /// </summary>
    private long _sequence = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    private bool _acknowledged = true;

    /// <summary>Since when reports have gone unacknowledged (null: the last one was acknowledged).</summary>
    public DateTimeOffset? UnacknowledgedSince { get; private set; }

    public void Acknowledged(long sequence)
    {
        if (sequence != _sequence) return;
        _acknowledged = true;
        UnacknowledgedSince = null;
    }

    /// <summary>The sequence number of the report to send now, or null; <paramref name="force"/> after the control plane (re)started.</summary>
    /// <param name="signature">the report's content in a comparable form</param>
    public long? Next(string signature, DateTimeOffset now, bool force)
    {
        if (!force && _acknowledged && signature == _lastSent && now - _sentAt < refreshEvery) return null;
        (_lastSent, _sentAt, _acknowledged) = (signature, now, false);
        UnacknowledgedSince ??= now;
        return ++_sequence;
    }
}
