using StackExchange.Redis;

namespace Mesh.Director.Store;

/// <summary>
/// The director's state in Redis, under one key prefix per mesh (<c>mesh:NAME:</c>), so that a director
/// that starts or takes over on another node finds it. A write carries its revision and is refused by
/// Redis itself (one Lua script, atomic) when a newer revision is stored: two directors can exist for a
/// moment during a partition, and the older must not overwrite the newer.
/// </summary>
public sealed class RedisDirectorStore : IDirectorStore, IAsyncDisposable
{
    // KEYS[1] = the state hash; ARGV = revision, config hash, config text, saved at. 1 = saved, 0 = refused.
    private const string SaveIfNotOlder = """
        local stored = redis.call('HGET', KEYS[1], 'revision')
        if stored and tonumber(stored) > tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'revision', ARGV[1], 'hash', ARGV[2], 'config', ARGV[3], 'savedAt', ARGV[4])
        return 1
        """;

    // KEYS[1] = the observed-state hash; ARGV = revision, JSON. 1 = saved, 0 = refused.
    private const string SaveObservedIfNotOlder = """
        local stored = redis.call('HGET', KEYS[1], 'revision')
        if stored and tonumber(stored) > tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'revision', ARGV[1], 'json', ARGV[2])
        return 1
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly RedisKey _state, _observed;

    private RedisDirectorStore(ConnectionMultiplexer redis, string mesh) =>
        (_redis, _state, _observed) = (redis, $"mesh:{mesh}:director", $"mesh:{mesh}:observed");

    /// <summary>
    /// Connects with a StackExchange.Redis configuration string ("host:port,password=…,ssl=true"). Never
    /// fails because Redis is down: the connection keeps retrying in the background, and until it is back
    /// each call fails with a clear error (the director serves from memory meanwhile).
    /// </summary>
    public static async Task<RedisDirectorStore> ConnectAsync(string configuration, string mesh)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 3000;
        options.AsyncTimeout = 3000;
        options.ClientName = "mesh-director";
        return new RedisDirectorStore(await ConnectionMultiplexer.ConnectAsync(options), mesh);
    }

    public string Describe => $"redis {_redis.Configuration.Split(',')[0]} key {_state}";

    public async Task<DirectorState?> LoadAsync(CancellationToken ct)
    {
        var fields = (await Db.HashGetAllAsync(_state).WaitAsync(ct)).ToDictionary(e => e.Name.ToString(), e => e.Value);
        if (!fields.TryGetValue("revision", out var revision)) return null;
        return new DirectorState((long)revision, fields["hash"]!, fields["config"]!, DateTimeOffset.Parse(fields["savedAt"]!));
    }

    public async Task<bool> SaveAsync(DirectorState state, CancellationToken ct)
    {
        var saved = await Db.ScriptEvaluateAsync(SaveIfNotOlder, [_state],
            [state.Revision, state.ConfigHash, state.ConfigText, state.SavedAt.ToString("O")]).WaitAsync(ct);
        return (int)saved == 1;
    }

    public async Task<ObservedState?> LoadObservedAsync(CancellationToken ct)
    {
        var json = await Db.HashGetAsync(_observed, "json").WaitAsync(ct);
        return json.IsNull ? null : ObservedJson.Read(json!);
    }

    public async Task<bool> SaveObservedAsync(ObservedState state, CancellationToken ct)
    {
        var saved = await Db.ScriptEvaluateAsync(SaveObservedIfNotOlder, [_observed], [state.Revision, ObservedJson.Write(state)]).WaitAsync(ct);
        return (int)saved == 1;
    }

    private IDatabase Db => _redis.IsConnected ? _redis.GetDatabase()
        : throw new IOException($"Redis at {_redis.Configuration.Split(',')[0]} is unreachable");   // fail at once, not after a timeout

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
