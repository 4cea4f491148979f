using System.Diagnostics;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>Stopping gateways with SIGTERM, as a service manager does: quick, quiet, and said to be a stop.</summary>
public sealed class StopSpec(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    /// <summary>A real service behind the mesh's echo services: with none, their checks fail and whether edge1's entry is up when the test looks is a race.</summary>
    private readonly EchoServer _echo = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }

    /// <summary>
    /// Measured on 2 cores: both gone 3.1-3.2 s after the signal (the last member waits the 3 s of
    /// cluster-exiting for a director hand-over nobody is left to take; hocon/core.conf); 10 s before.
    /// </summary>
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task Two_core_gateways_stopped_at_once_exit_within_seconds_without_stack_traces_and_say_they_stopped()
    {
        await _mesh.StartAsync(_echo.Port, downPort: FreePorts.Next());
        await _mesh.ReadyForFlowsAsync();
        // core2's own view of the cluster: it serves no API here (one would change what stopping it measures)
        await _mesh.AllAsync(_mesh.Core2.WaitForLineAsync(l => l.Contains("cluster: core1 is up ("), TestMesh.Ready));

        var clock = Stopwatch.StartNew();
        _mesh.Core1.Terminate();
        _mesh.Core2.Terminate();
        var exits = await Task.WhenAll(_mesh.Core1.ExitedAsync(TimeSpan.FromSeconds(30)), _mesh.Core2.ExitedAsync(TimeSpan.FromSeconds(30)));
        var took = clock.Elapsed;
        output.WriteLine($"both core gateways exited {took.TotalSeconds:0.0}s after SIGTERM");

        foreach (var (core, exit) in new[] { _mesh.Core1, _mesh.Core2 }.Zip(exits))
        {
            var lines = core.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            // from the stop on (a cold start may have restarted a control plane "on its own" before: docs/operations.md)
            var stop = Array.FindIndex(lines, l => l.Contains("stopping (SIGTERM): leaving the cluster"));
            var after = lines.Skip(Math.Max(stop, 0)).ToList();
            var said = string.Join("\n", after);
            Assert.True(exit == 0, $"{core.Name} exit code {exit?.ToString() ?? "none (still running)"}; it said:\n{said}");
            Assert.True(stop >= 0, $"{core.Name} never said it was stopping:\n{said}");
            Assert.False(after.Any(l => l.StartsWith("   at ", StringComparison.Ordinal) || l.Contains("on its own")),
                $"{core.Name} printed a stack trace or took its stop for a failure:\n{said}");
            Assert.EndsWith("[Mesh.Node] stopped", lines[^1]);
        }
        Assert.True(took < Within, $"the core gateways took {took.TotalSeconds:0.0}s to stop (at most {Within.TotalSeconds:0}s)");
    }
}
