using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.DistributedData.Durable;
using Akka.Event;
using Akka.Serialization;


namespace Mesh.Director.Store;

/// <summary>
/// The durable store of this core gateway's replica (Akka.DistributedData's durable-store protocol): one
/// file per key under <c>durable.file.dir</c>, written to a temporary file and renamed (a crash leaves the
/// previous one), owner-only. At start the replicator loads them all, so a cluster that restarts whole finds
/// the last state it agreed on. Akka's own LMDB store needs a LightningDB version not served here.
/// </summary>
public sealed class FileDurableStore : ReceiveActor
{
    private readonly string _dir;
    private readonly Serializer _serializer;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public FileDurableStore(Akka.Configuration.Config config)
    {
        _dir = config.GetString("file.dir") is { Length: > 0 } dir ? dir : throw new ArgumentException("akka.cluster.distributed-data.durable.file.dir is not set");
        CreateOwnerOnly(_dir);
        _serializer = Context.System.Serialization.FindSerializerForType(typeof(DurableDataEnvelope));
        Receive<LoadAll>(_ =>
        {
            try
            {
                var all = Directory.GetFiles(_dir, "*.bin").ToImmutableDictionary(
                    f => Encoding.UTF8.GetString(Convert.FromHexString(Path.GetFileNameWithoutExtension(f))), Read);
                if (all.Count > 0) Sender.Tell(new LoadData(all));
                Sender.Tell(LoadAllCompleted.Instance);
                Become(Active);
            }
            catch (Exception e) { throw new LoadFailedException($"cannot load the replica in {_dir}: {e.GetBaseException().Message}", e); }
        });
    }

    private void Active() => Receive<Akka.DistributedData.Durable.Store>(store =>
    {
        try
        {
            var path = Path.Combine(_dir, Convert.ToHexStringLower(Encoding.UTF8.GetBytes(store.Key)) + ".bin");
            var temp = path + ".tmp";
            File.Delete(temp);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temp, options)) file.Write(Write(store.Data));
            File.Move(temp, path, overwrite: true);
            store.Reply?.ReplyTo.Tell(store.Reply.SuccessMessage);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error(e, "cannot write the replica of [{0}] in {1}", store.Key, _dir);
            store.Reply?.ReplyTo.Tell(store.Reply.FailureMessage);
        }
    });

    /// <summary>A file: [manifest length u8][manifest][bytes], as the replicator's serializer (one with string manifests) needs them back.</summary>
    private byte[] Write(DurableDataEnvelope envelope)
    {
        var manifest = Encoding.UTF8.GetBytes(Serialization.ManifestFor(_serializer, envelope));
        var body = _serializer.ToBinary(envelope);
        var bytes = new byte[1 + manifest.Length + body.Length];
        bytes[0] = (byte)manifest.Length;
        manifest.CopyTo(bytes, 1);
        body.CopyTo(bytes, 1 + manifest.Length);
        return bytes;
    }

    private DurableDataEnvelope Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var manifest = Encoding.UTF8.GetString(bytes, 1, bytes[0]);
        var body = bytes[(1 + bytes[0])..];
        return (DurableDataEnvelope)(_serializer is SerializerWithStringManifest named
            ? named.FromBinary(body, manifest) : _serializer.FromBinary(body, typeof(DurableDataEnvelope)));
    }

    private static void CreateOwnerOnly(string dir)
    {
        if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(dir); return; }
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
