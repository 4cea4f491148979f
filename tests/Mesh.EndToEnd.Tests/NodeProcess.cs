using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Mesh.EndToEnd.Tests;

/// <summary>A real Mesh.Node process whose output lines can be awaited (readiness, not sleeps).</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

    /// <summary>
    /// Every process a test started and did not dispose is killed when the test run ends: a fixture whose
    /// start failed is not disposed by xUnit, and its gateways would otherwise outlive the run.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Process, byte> Running = new();

    static NodeProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var p in Running.Keys)
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    };

    public static string NodeDll => Path.Combine(AppContext.BaseDirectory, "Mesh.Node.dll");
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "mesh.dll");

    /// <param name="launcher">a command that runs dotnet for us: ip netns exec NS (the sites suite), prlimit (a file limit)</param>
    /// <param name="keepLog">write every line to MESH_TEST_LOGS/MESH/NAME.log as it comes (when that is set)</param>
    /// <param name="executable">a gateway built as one executable (package.sh's mesh-node), run instead of dotnet and a DLL</param>
    private NodeProcess(string name, IEnumerable<string> args, string workDir, string? dll = null, string[]? launcher = null, bool keepLog = true,
        string? executable = null)
    {
        Name = name;
        (MetricsAddress, MetricsTokenFile) = MetricsFrom([.. args]);
        _mesh = Path.GetFileName(Path.TrimEndingDirectorySeparator(workDir));
        if (keepLog) _log = OpenLog(name, _mesh);
        string[] command = [.. launcher ?? [], .. executable is null ? ["dotnet", dll ?? NodeDll] : new[] { executable }, .. args];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        foreach (var a in command.Skip(1)) start.ArgumentList.Add(a);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Start();
        Running[_process] = 0;
        _process.Exited += (_, _) => Running.TryRemove(_process, out _);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    /// <summary>Where a test can read this gateway's /metrics (its --metrics, else its plain-HTTP --api on loopback), or null.</summary>
    public string? MetricsAddress { get; }

    /// <summary>The file with the token /metrics needs (read from its API), or null (--metrics needs none).</summary>
    public string? MetricsTokenFile { get; }

    private static (string? Address, string? TokenFile) MetricsFrom(string[] args)
    {
        string? Flag(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        static string Loopback(string address) => address.Replace("0.0.0.0:", "127.0.0.1:").Replace("[::]:", "[::1]:");
        if (Flag("--metrics") is { } metrics) return (Loopback(metrics), null);
        if (Flag("--api") is { } api && Flag("--api-cert") is null && (Flag("--api-read-token-file") ?? Flag("--api-token-file")) is { } token)
            return (Loopback(api), token);
        return (null, null);
    }

    public static NodeProcess Start(string name, string workDir, params string[] args) => new(name, args, workDir);

    /// <summary>Starts the `mesh` binary (e.g. `mesh echo`, a service a test can kill) as a process of its own.</summary>
    public static NodeProcess StartCli(string name, string workDir, params string[] args) => new(name, args, workDir, CliDll);

    /// <summary>Starts Mesh.Node (or, with <paramref name="dll"/>, another of our binaries) inside a network namespace.</summary>
    public static NodeProcess StartIn(string netns, string name, string workDir, string[] args, string? dll = null) =>
        new(name, args, workDir, dll, ["ip", "netns", "exec", netns]) { Netns = netns };

    /// <summary>The network namespace the process runs in (its ports are reached from inside it), or null.</summary>
    public string? Netns { get; private init; }

    /// <summary>Starts Mesh.Node with its file descriptors limited to <paramref name="limit"/> (soft and hard), as a small host would.</summary>
    /// <summary>Starts a gateway built as a single executable (package.sh), not through dotnet.</summary>
    public static NodeProcess StartExecutable(string executable, string name, string workDir, params string[] args) =>
        new(name, args, workDir, executable: executable);

    public static NodeProcess StartWithFileLimit(int limit, string name, string workDir, string[] args) =>
        new(name, args, workDir, launcher: ["prlimit", $"--nofile={limit}:{limit}"]);

    public bool HasExited => _process.HasExited;

    /// <summary>The process id of Mesh.Node itself (for /proc readings).</summary>
    public int Pid => _process.Id;

    /// <summary>Runs Mesh.Node to completion and returns its exit code and all its output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(params string[] args) => RunDllAsync(NodeDll, args);

    /// <summary>Runs the `mesh` admin command to completion.</summary>
    public static Task<(int ExitCode, string Output)> RunCliAsync(params string[] args) => RunDllAsync(CliDll, args);

    private static async Task<(int ExitCode, string Output)> RunDllAsync(string dll, string[] args)
    {
        await using var p = new NodeProcess("run", args, AppContext.BaseDirectory, dll, keepLog: false);   // its output is returned
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p._process.WaitForExitAsync(cts.Token);
        p._process.WaitForExit();   // drains the redirected streams
        return (p._process.ExitCode, p.Output);
    }

    public string Output { get { lock (_gate) return string.Join("\n", _lines); } }

    /// <summary>Sends SIGTERM, as a service manager or `kill` stops a gateway (it leaves the cluster and exits 0).</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, SigTerm) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits for the process to exit (its output read to the end) and returns its exit code; null if it did not within <paramref name="timeout"/>.</summary>
    public async Task<int?> ExitedAsync(TimeSpan timeout)
    {
        try { await _process.WaitForExitAsync().WaitAsync(timeout); }
        catch (TimeoutException) { return null; }
        _process.WaitForExit();   // drains the redirected streams
        return _process.ExitCode;
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>How many lines were printed so far: pass it to WaitForLineAsync to wait for a line printed after now.</summary>
    public int Mark() { lock (_gate) return _lines.Count; }

    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, int after = 0)
    {
        TaskCompletionSource<string> found = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var seen = _lines.Skip(after).FirstOrDefault(match);
            if (seen is not null) return seen;
            _waiters.Add((match, found));
        }
        try { return await found.Task.WaitAsync(timeout); }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} (of {_mesh}): no matching line within {timeout.TotalSeconds:0}s; output:\n{Output}");
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_gate)
        {
            _lines.Add(line);
            _log?.WriteLine(line);
            foreach (var w in _waiters.Where(w => w.Match(line)).ToList())
            {
                _waiters.Remove(w);
                w.Found.TrySetResult(line);
            }
        }
    }


    /// <summary>
    /// With MESH_TEST_LOGS=DIR, every line a gateway prints is also written to DIR/MESH/NAME.log as it comes
    /// (MESH: its mesh's temporary directory, named in a failed wait's message), so a failed test's gateways
    /// can be read afterwards, even when the test never got to stop them; ./test.sh sets it.
    /// </summary>
    private static StreamWriter? OpenLog(string name, string mesh)
    {
        if (Environment.GetEnvironmentVariable("MESH_TEST_LOGS") is not { Length: > 0 } logs) return null;
        var dir = Path.Combine(logs, mesh);
        Directory.CreateDirectory(dir);
        var file = new FileStream(Path.Combine(dir, $"{name.Replace('@', '-').Replace('/', '-')}.log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        return new StreamWriter(file) { AutoFlush = true };
    }

    private readonly string _mesh;
    private StreamWriter? _log;

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_gate)
        {
            _log?.Dispose();
            _log = null;
        }
    }

    private bool _disposed;
}
