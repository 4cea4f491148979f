using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;

namespace Mesh.Director.Store;

/// <summary>
/// The embedded store, shared by the core gateways (ADR 0012): the director's state in Akka.DistributedData,
/// replicated to every core gateway and kept on disk by each (FileDurableStore, --state-dir/replica), so a director that
/// takes over after a crash, on any core gateway, finds the last applied revision without Redis, and a
/// cluster that restarts whole finds it too. Reads and writes ask a majority of the core gateways; when no
/// majority answers (a lone survivor) the local copy is used, and it spreads when the others return.
/// "The highest revision wins" is the register's clock, so concurrent directors (a partition) converge on it.
/// </summary>
public sealed class ReplicatedDirectorStore(ActorSystem system) : IDirectorStore
{
    private static readonly TimeSpan Majority = TimeSpan.FromSeconds(3);
    private static readonly LWWRegisterKey<DirectorState> StateKey = new("mesh-director");
    private static readonly LWWRegisterKey<ObservedState> ObservedKey = new("mesh-observed");

    private readonly IActorRef _replicator = DistributedData.Get(system).Replicator;
    private readonly UniqueAddress _self = Cluster.Get(system).SelfUniqueAddress;

    public static string Describe => "the core gateways' replicated store";

    public Task<DirectorState?> LoadAsync(CancellationToken ct) => ReadAsync(StateKey, ct);

    public Task<ObservedState?> LoadObservedAsync(CancellationToken ct) => ReadAsync(ObservedKey, ct);

    public Task<bool> SaveAsync(DirectorState state, CancellationToken ct) =>
        WriteAsync(StateKey, state, s => s.Revision, (_, s) => s.Revision, ct);

    /// <summary>
    /// Its clock grows with every write, even two in one second (a table-counter reservation, ADR 0013): with
    /// equal clocks a replica keeps the value it has, and the newer reservation would not spread.
    /// </summary>
    public Task<bool> SaveObservedAsync(ObservedState state, CancellationToken ct) =>
        WriteAsync(ObservedKey, state, s => s.Revision,
            (current, s) => Math.Max(current + 1, (s.Revision << 40) | (s.SavedAt.ToUnixTimeSeconds() & ((1L << 40) - 1))), ct);

    private async Task<T?> ReadAsync<T>(LWWRegisterKey<T> key, CancellationToken ct) where T : class
    {
        var answer = await _replicator.Ask<IGetResponse>(Dsl.Get(key, new ReadMajority(Majority)), Majority + TimeSpan.FromSeconds(2), ct);
        if (answer is GetFailure)   // no majority answered: what this node holds (and has on disk)
            answer = await _replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), TimeSpan.FromSeconds(5), ct);
        return answer switch
        {
            GetSuccess success => success.Get(key).Value,
            NotFound => null,
            DataDeleted => null,
            _ => throw new IOException($"the replicated store did not answer a read of {key.Id} ({answer.GetType().Name})"),
        };
    }

    /// <summary>Refused (false) when the store holds a newer revision; otherwise written here and to a majority when one answers.</summary>
    private async Task<bool> WriteAsync<T>(LWWRegisterKey<T> key, T value, Func<T, long> revision, Clock<T> clock, CancellationToken ct) where T : class
    {
        if (await ReadAsync(key, ct) is { } stored && revision(stored) > revision(value)) return false;
        var answer = await _replicator.Ask<IUpdateResponse>(
            Dsl.Update(key, new LWWRegister<T>(_self, value, clock(0, value)), new WriteMajority(Majority), r => r.WithValue(_self, value, clock)),
            Majority + TimeSpan.FromSeconds(2), ct);
        return answer switch
        {
            UpdateSuccess => true,
            UpdateTimeout => true,   // written here (and on disk); it spreads to the others by gossip
            StoreFailure failure => throw new IOException($"the replicated store could not write {key.Id} to disk: {failure}"),
            _ => throw new IOException($"the replicated store refused a write of {key.Id} ({answer.GetType().Name})"),
        };
    }
}
