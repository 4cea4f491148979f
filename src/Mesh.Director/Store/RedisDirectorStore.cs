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
    // KEYS[1] = the state hash; ARGV = revision, config hash, config text, saved at, source. 1 = saved, 0 = refused.
    // A stored revision that no director could have written (not a number, or past MaxRevision: someone wrote
    // to Redis by hand or forged it) fences nothing: it would otherwise refuse every write forever.
    private static readonly string SaveIfNotOlder = $"""
        local stored = tonumber(redis.call('HGET', KEYS[1], 'revision'))
        if stored and stored <= {DirectorState.MaxRevision} and stored > tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'revision', ARGV[1], 'hash', ARGV[2], 'config', ARGV[3], 'savedAt', ARGV[4], 'source', ARGV[5])
        return 1
        """;

    // KEYS[1] = the observed-state hash; ARGV = revision, JSON. 1 = saved, 0 = refused.
    private static readonly string SaveObservedIfNotOlder = $"""
        local stored = tonumber(redis.call('HGET', KEYS[1], 'revision'))
        if stored and stored <= {DirectorState.MaxRevision} and stored > tonumber(ARGV[1]) then return 0 end
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
    /// <param name="password">from --redis-password-file or MESH_REDIS_PASSWORD (a password= in the string still works)</param>
    public static async Task<RedisDirectorStore> ConnectAsync(string configuration, string mesh, string? password = null)
    {
        var options = ConfigurationOptions.Parse(configuration);
        if (password is not null) options.Password = password;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 3000;
        options.AsyncTimeout = 3000;
        options.ClientName = "mesh-director";
        return new RedisDirectorStore(await ConnectionMultiplexer.ConnectAsync(options), mesh);
    }

    /// <summary>Where the state is, for a log line: host and key, never the password.</summary>
    public string Describe => $"redis {_redis.Configuration.Split(',')[0]} key {_state}";

    public async Task<DirectorState?> LoadAsync(CancellationToken ct)
    {
        var fields = (await Db.HashGetAllAsync(_state).WaitAsync(ct)).ToDictionary(e => e.Name.ToString(), e => e.Value);
        if (!fields.TryGetValue("revision", out var revision)) return null;
        // Read defensively: whoever can write to Redis must not crash the director (it checks the values, ADR 0009).
        if (!revision.TryParse(out long r) || !fields.TryGetValue("hash", out var hash) || !fields.TryGetValue("config", out var config))
            throw new IOException($"the key {_state} in Redis does not hold a director state (revision '{Mesh.Contracts.Logging.LogText.Safe(revision.ToString(), 40)}')");
        var savedAt = fields.TryGetValue("savedAt", out var at) && DateTimeOffset.TryParse(at.ToString(), out var t) ? t : DateTimeOffset.MinValue;
        return new DirectorState(r, hash!, config!, savedAt) { Source = fields.TryGetValue("source", out var source) ? source.ToString() : "" };
    }

    public async Task<bool> SaveAsync(DirectorState state, CancellationToken ct)
    {
        var saved = await Db.ScriptEvaluateAsync(SaveIfNotOlder, [_state],
            [state.Revision, state.ConfigHash, state.ConfigText, state.SavedAt.ToString("O"), state.Source]).WaitAsync(ct);
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
