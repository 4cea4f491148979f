using System.Net;
using System.Net.Sockets;
using Mesh.Director.Store;
using Mesh.Tests.Shared;

namespace Mesh.EndToEnd.Tests;

/// <summary>Real gateways whose director keeps its state in a real redis-server (--redis), and Redis going away.</summary>
public sealed class RedisMeshSpec : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly EchoServer _echo = new();
    private readonly TestMesh _mesh = new();

    public async Task InitializeAsync()
    {
        if (RedisServer.WhyUnavailable is not null) return;
        await _redis.StartAsync();
        await _mesh.StartAsync(_echo.Port, downPort: FreePorts.Next(), redis: _redis.Configuration);
        await _mesh.ReadyForFlowsAsync();
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _echo.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private async Task<DirectorState?> StoredState()
    {
        await using var store = await RedisDirectorStore.ConnectAsync(_redis.Configuration, "e2e");
        return await store.LoadAsync(default);
    }

    private async Task AssertFlowWorks()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, _mesh.EchoEntry);
        var (sent, received, bytes) = await ClientFlows.RoundTripAsync(s, 1 << 20);
        Assert.True(bytes == 1 << 20 && sent == received, $"{bytes} bytes came back; warnings:\n{_mesh.Warnings()}");
    }

    [RedisFact]
    public async Task Redis_killed_and_started_again_the_mesh_keeps_forwarding_and_the_director_writes_its_state_back()
    {
        Assert.Equal(1, (await StoredState())?.Revision);   // the director saved the route map it serves

        await _redis.StopAsync();
        await AssertFlowWorks();   // flows never needed Redis

        await _redis.StartAsync();   // empty: it keeps nothing on disk
        using var retry = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        DirectorState? state = null;
        while (state is null && DateTime.UtcNow < deadline && await retry.WaitForNextTickAsync())
        {
            try { state = await StoredState(); }
            catch (Exception e) when (e is IOException or StackExchange.Redis.RedisException) { }
        }
        Assert.True(state is not null, $"the director did not write its state back within 30 s; warnings:\n{_mesh.Warnings()}");
        Assert.Contains("name = \"e2e\"", state.ConfigText);
        await AssertFlowWorks();
    }
}
