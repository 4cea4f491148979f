using Mesh.Tests.Shared;
using StackExchange.Redis;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The Redis password never needs to be on the command line (issue 13: `--redis "host,password=…"` showed it
/// in `ps` to every user of the host): it comes from --redis-password-file (or MESH_REDIS_PASSWORD); a password
/// still given in --redis works, with a warning.
/// </summary>
public sealed class RedisSecretsSpec : IAsyncLifetime
{
    private const string Password = "a redis password nobody may see";
    private readonly RedisServer _redis = new(Password);
    private readonly SoloCore _core = new();

    public async Task InitializeAsync()
    {
        if (RedisServer.WhyUnavailable is null) await _redis.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _core.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private async Task<long?> StoredRevisionAsync()
    {
        using var reader = await ConnectionMultiplexer.ConnectAsync($"{_redis.Configuration},password={Password}");
        var revision = await reader.GetDatabase().HashGetAsync("mesh:solo:director", "revision");
        return revision.IsNull ? null : (long)revision;
    }

    [RedisFact]
    public async Task A_password_file_reaches_redis_and_the_password_is_nowhere_in_the_process_list()
    {
        var file = Path.Combine(_core.Dir, "redis.password");
        await File.WriteAllTextAsync(file, $"\n{Password}\n");   // the first non-empty line
        var node = await _core.StartAsync(_core.Config(""), "--redis", _redis.Configuration, "--redis-password-file", file);

        Assert.True(await Poll.UntilAsync(async () => await StoredRevisionAsync() == 1, TestMesh.Ready), "the director did not store revision 1 in Redis");
        var commandLine = (await File.ReadAllTextAsync($"/proc/{node.Pid}/cmdline")).Replace('\0', ' ');
        Assert.Contains("--redis-password-file", commandLine);
        Assert.DoesNotContain(Password, commandLine);
        Assert.DoesNotContain(Password, node.Output);
        Assert.DoesNotContain("holds a password", node.Output);
    }

    [RedisFact]
    public async Task A_password_in_the_redis_flag_still_works_and_is_warned_about()
    {
        var node = await _core.StartAsync(_core.Config(""), "--redis", $"{_redis.Configuration},password={Password}");
        await node.WaitForLineAsync(l => l.Contains("--redis") && l.Contains("password") && l.Contains("process list"), TestMesh.Ready);
        Assert.True(await Poll.UntilAsync(async () => await StoredRevisionAsync() == 1, TestMesh.Ready), "the director did not store revision 1 in Redis");
    }

    [Fact]
    public async Task A_blank_password_file_stops_the_node_with_one_line_naming_it()
    {
        var file = Path.Combine(_core.Dir, "blank.password");
        await File.WriteAllTextAsync(file, "\n  \n");
        await File.WriteAllTextAsync(_core.ConfigPath, _core.Config(""));
        var (code, output) = await NodeProcess.RunAsync(["--name", "core1", "--listen", $"127.0.0.1:{_core.Link}", "--cluster-port", $"{_core.ClusterPort}",
            "--config", _core.ConfigPath, "--redis", "127.0.0.1:1", "--redis-password-file", file, .. await _core.Certificates.FlagsFor("core1")]);
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"--redis-password-file {file}: the file holds no password", line);
    }
}
