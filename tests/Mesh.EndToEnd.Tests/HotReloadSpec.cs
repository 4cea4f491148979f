using System.Net;
using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>The director reloads its config file when its content changes, as an operator edits it; real gateways follow.</summary>
public sealed class HotReloadSpec : IAsyncLifetime
{
    private static readonly TimeSpan Applied = TimeSpan.FromSeconds(20);
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();

    public async Task InitializeAsync()
    {
        await _mesh.StartAsync(_echo.Port, downPort: FreePorts.Next());
        await _mesh.ReadyForFlowsAsync();
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private static Task<Socket> Connect(int port) => ClientFlows.ConnectAsync(port);

    [Fact]
    public async Task An_added_entry_starts_listening_a_removed_one_stops_and_a_running_flow_goes_on()
    {
        using var steady = await SteadyFlow.StartAsync(await Connect(_mesh.EchoEntry));
        await steady.WaitForBytesAsync(256 * 1024);
        var original = await File.ReadAllTextAsync(_mesh.ConfigPath);
        var added = FreePorts.Next();

        // Add an entry on core1 for echo2, and remove the entry for `down`: an edit, as an operator makes it.
        var edited = original.Replace($"""
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{_mesh.DownEntry}"
            service = "down"
            """, $"""
            [[entries]]
            gateway = "core1"
            listen = "127.0.0.1:{added}"
            service = "echo2"
            """);
        Assert.NotEqual(original, edited);
        await File.WriteAllTextAsync(_mesh.ConfigPath, edited);

        await _mesh.Core1.WaitForEntryListeningAsync($"127.0.0.1:{added}", "echo2", Applied);
        var (sent, received, bytes) = await ClientFlows.RoundTripAsync(await Connect(added), 1 << 20);
        Assert.True(bytes == 1 << 20 && sent == received, $"{bytes} bytes came back through the new entry");
        await _mesh.Core1.WaitForEntryGoneAsync($"127.0.0.1:{_mesh.DownEntry}", "down", Applied);
        await Assert.ThrowsAnyAsync<SocketException>(() => Connect(_mesh.DownEntry));

        var (sentSteady, echoed) = await steady.StopAsync();
        Assert.True(steady.Intact && sentSteady == echoed, $"the running flow sent {sentSteady} and got {echoed} back");
    }

    [Fact]
    public async Task A_broken_file_keeps_the_last_good_map_says_what_is_wrong_and_a_fixed_file_is_applied()
    {
        var original = await File.ReadAllTextAsync(_mesh.ConfigPath);
        await File.WriteAllTextAsync(_mesh.ConfigPath, original.Replace("pool_size = 4", "pool_size = \"many\""));

        // the director says what is wrong, as FILE:LINE: KEY: message
        await (await Task.WhenAny(
            _mesh.Core1.WaitForLineAsync(l => l.Contains("mesh.toml:3: mesh.pool_size: must be an integer"), Applied),
            _mesh.Core2.WaitForLineAsync(l => l.Contains("mesh.toml:3: mesh.pool_size: must be an integer"), Applied)));
        var (sent, received, _) = await ClientFlows.RoundTripAsync(await Connect(_mesh.EchoEntry), 1 << 20);
        Assert.Equal(sent, received);   // the last good map still carries flows

        await File.WriteAllTextAsync(_mesh.ConfigPath, original.Replace("pool_size = 4", "pool_size = 6"));
        await Task.WhenAny(   // the director, wherever it runs, applied the fixed file: its second load
            _mesh.Core1.WaitForMetricAsync("mesh_reloads_total{result=\"applied\"}", v => v >= 2, Applied),
            _mesh.Core2.WaitForMetricAsync("mesh_reloads_total{result=\"applied\"}", v => v >= 2, Applied)).Unwrap();
    }
}
