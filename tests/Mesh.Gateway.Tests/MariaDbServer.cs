using System.Diagnostics;
using Mesh.Tests.Shared;

namespace Mesh.Gateway.Tests;

/// <summary>
/// A private MariaDB server on a free loopback port, its data in a temporary directory, with the users the
/// mysql check is tested against (created by an init file at start). The test talks to it as root over its
/// Unix socket with the mariadb client. ./test.sh installs mariadb-server when run as root; elsewhere the
/// tests that need it are skipped with the reason.
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    private static readonly string? Server = FirstExisting("/usr/sbin/mariadbd", "/usr/local/sbin/mariadbd", "/usr/local/bin/mariadbd");
    private static readonly string? InstallDb = FirstExisting("/usr/bin/mariadb-install-db", "/usr/local/bin/mariadb-install-db");
    private static readonly string? Client = FirstExisting("/usr/bin/mariadb", "/usr/local/bin/mariadb");

    public static string? WhyUnavailable => Server is null || InstallDb is null || Client is null
        ? "mariadb-server is not installed (./test.sh installs it with apt-get when run as root)" : null;

    /// <summary>Password-less, the user a mysql check should name.</summary>
    public const string CheckUser = "meshcheck";
    /// <summary>Has a password: the check, which has none, is refused.</summary>
    public const string PasswordUser = "withpassword";
    /// <summary>Password-less under mysql_old_password (allowed by --skip-secure-auth): the server switches the check's login to that plugin.</summary>
    public const string OtherPluginUser = "oldplugin";

    private static readonly string Users = $"""
        CREATE USER '{CheckUser}'@'127.0.0.1';
        CREATE USER '{PasswordUser}'@'127.0.0.1' IDENTIFIED BY 's3cret';
        CREATE USER '{OtherPluginUser}'@'127.0.0.1' IDENTIFIED VIA mysql_old_password;
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-mariadb-").FullName;
    private Process? _process;

    public int Port { get; } = FreePorts.Next();

    /// <summary>The server's error log, where it writes "[Warning] Aborted connection …".</summary>
    public string ErrorLog => Path.Combine(_dir, "error.log");

    private string Socket => Path.Combine(_dir, "sock");
    private static string[] AsRoot => Environment.UserName == "root" ? ["--user=root"] : [];   // mariadbd refuses root unless told

    public async Task StartAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "init.sql"), Users);
        await RunAsync(InstallDb!, ["--no-defaults", $"--datadir={_dir}/data", "--auth-root-authentication-method=normal", "--skip-test-db", .. AsRoot]);
        var start = new ProcessStartInfo(Server!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["--no-defaults", $"--datadir={_dir}/data", $"--socket={Socket}", $"--pid-file={_dir}/pid",
                     $"--port={Port}", "--bind-address=127.0.0.1", "--skip-name-resolve", $"--log-error={ErrorLog}", $"--init-file={_dir}/init.sql",
                     "--log-warnings=2", "--userstat=1", "--skip-secure-auth", "--innodb-buffer-pool-size=16M", .. AsRoot])
            start.ArgumentList.Add(a);
        _process = Process.Start(start)!;
        var started = _process;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { started.Kill(); } catch (InvalidOperationException) { } };   // outlives no test run
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        // Ready when root can query over the socket (a TCP connect to test would itself be an aborted connection).
        var ready = await Poll.UntilAsync(async () => _process.HasExited || await TryQueryAsync("SELECT 1") == "1", TimeSpan.FromSeconds(30));
        if (!ready || _process.HasExited)
            throw new InvalidOperationException($"mariadbd did not start on port {Port}:\n{(File.Exists(ErrorLog) ? await File.ReadAllTextAsync(ErrorLog) : "(no error log)")}");
    }

    /// <summary>A global status counter, e.g. Aborted_connects.</summary>
    public async Task<long> StatusAsync(string name) =>
        long.Parse(await QueryAsync($"SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '{name}'"));

    /// <summary>Connections made as <paramref name="user"/> and those of them that ended without COM_QUIT (--userstat).</summary>
    public async Task<(long Total, long Lost)> UserConnectionsAsync(string user) =>
        await QueryAsync($"SELECT CONCAT(TOTAL_CONNECTIONS, ' ', LOST_CONNECTIONS) FROM information_schema.USER_STATISTICS WHERE USER = '{user}'")
            is { Length: > 0 } row ? (long.Parse(row.Split(' ')[0]), long.Parse(row.Split(' ')[1])) : (0, 0);

    /// <summary>Waits until no connection but the asking one is open: every probe has been served to its end.</summary>
    public Task<bool> IdleAsync() => Poll.UntilAsync(async () => await StatusAsync("Threads_connected") == 1, TimeSpan.FromSeconds(10));

    public async Task<string> QueryAsync(string sql) =>
        await TryQueryAsync(sql) ?? throw new InvalidOperationException($"mariadb -e \"{sql}\" failed");

    private async Task<string?> TryQueryAsync(string sql)
    {
        var (code, output) = await RunAsync(Client!, ["--no-defaults", $"--socket={Socket}", "--user=root", "--batch", "--skip-column-names", "-e", sql], check: false);
        return code == 0 ? output.Trim() : null;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, bool check = true)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"{Path.GetFileName(file)} exited {p.ExitCode}: {await error}");
        return (p.ExitCode, await output);
    }

    private static string? FirstExisting(params string[] paths) => paths.FirstOrDefault(File.Exists);

    public async ValueTask DisposeAsync()
    {
        if (_process is { } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
            p.Dispose();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A test that needs mariadb-server: skipped, with the reason, where it is not installed.</summary>
public sealed class MariaDbFactAttribute : FactAttribute
{
    public MariaDbFactAttribute()
    {
        if (MariaDbServer.WhyUnavailable is { } why) Skip = why;
    }
}
