using System.Diagnostics;
using Mesh.Tests.Shared;
using Xunit.Abstractions;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// A link's cost follows the network, not the load on the gateways: with every core of the machine
/// saturated and flows running through the mesh, pings answered late by busy processes must not make a
/// link look slow, change its cost, and republish every route table (seen under a MySQL benchmark:
/// core1-core2 cost 1 -> 143 -> 1, twenty times in two minutes).
/// </summary>
public sealed class LinkCostSpec(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>20 s: the smallest of the last eight pings, the rule this replaced, moved costs eight times in 40 s (docs/link-protocol.md).</summary>
    private static readonly TimeSpan Load = TimeSpan.FromSeconds(20);
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();

    public async Task InitializeAsync()
    {
        await _mesh.StartAsync(_echo.Port, FreePorts.Next());
        await _mesh.ReadyForFlowsAsync();
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Link_costs_hold_still_while_the_cpu_is_saturated_and_flows_run()
    {
        // the director reports costs once the links have round trips: start from the settled mesh
        await _mesh.Core1.WaitForLinkUpAsync("core2", TestMesh.Ready);
        var marks = (core1: _mesh.Core1.Mark(), core2: _mesh.Core2.Mark());

        using var loaded = new CancellationTokenSource(Load);
        var hogs = Enumerable.Range(0, Environment.ProcessorCount * 2).Select(_ => Process.Start(new ProcessStartInfo("sh", ["-c", "while :; do :; done"]))!).ToList();
        var flows = 0;
        try
        {
            var clients = Enumerable.Range(0, 4).Select(async _ =>
            {
                while (!loaded.IsCancellationRequested)
                    if (await ClientFlows.EchoesAsync(() => ClientFlows.ConnectAsync(_mesh.EchoEntry), TimeSpan.FromSeconds(10))) Interlocked.Increment(ref flows);
            }).ToList();
            await Task.WhenAll(clients);
        }
        finally
        {
            foreach (var hog in hogs) { hog.Kill(); hog.Dispose(); }
        }
        output.WriteLine($"{flows} flows through core1's entry while {hogs.Count} busy loops ran for {Load.TotalSeconds:0}s");

        var changes = new[] { (_mesh.Core1, marks.core1), (_mesh.Core2, marks.core2) }
            .SelectMany(n => n.Item1.Output.Split('\n').Skip(n.Item2)).Where(l => l.Contains("links changed") && l.Contains(" cost ")).ToList();
        foreach (var change in changes) output.WriteLine(change);
        Assert.True(flows > 0, "no flow went through while the CPU was saturated");
        Assert.True(changes.Count == 0, $"link costs moved under load:\n{string.Join("\n", changes)}");
    }
}
