namespace Mesh.Tests.Shared;

/// <summary>Waits for a condition a test can only ask about (a value in Redis, a file), not wait on.</summary>
public static class Poll
{
    /// <summary>Asks <paramref name="done"/> every 100 ms until it holds or <paramref name="within"/> is up; false then.</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> done, TimeSpan within)
    {
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var deadline = DateTime.UtcNow + within;
        do
        {
            if (await done()) return true;
        } while (DateTime.UtcNow < deadline && await retry.WaitForNextTickAsync());
        return false;
    }
}
