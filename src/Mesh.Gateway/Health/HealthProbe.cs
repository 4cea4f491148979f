using Mesh.Config;
using System.Net.Sockets;
using System.Text;
using Mesh.Contracts.Routing;
using Mesh.Gateway.Flows;
using Mesh.Transport.Flows;

namespace Mesh.Gateway.Health;

/// <summary>One probe of a service: null when it answered as its kind should, else what was wrong, in words.</summary>
public static class HealthProbe
{
    public static async Task<string?> RunAsync(CheckSpec check, string target, CancellationToken ct)
    {
        var timeout = check.Timeout;
        var (socket, error) = await ServiceDialer.DialAsync(Endpoints.Parse(target), timeout, ct);
        if (socket is null) return error;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            return check.Kind switch
            {
                "redis" => await RedisAsync(stream, check.PasswordEnv, deadline.Token),
                "http" => await HttpAsync(stream, target, check.Path ?? "/", deadline.Token),
                "mysql" => await MysqlProbe.RunAsync(stream, check.User, deadline.Token),
                _ => null,   // tcp: the connection was accepted
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"no {check.Kind} answer from {target} within {timeout.TotalSeconds:0.###}s";
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return $"{check.Kind} probe of {target} failed: {e.GetBaseException().Message}";
        }
    }

    /// <summary>
    /// PING must be answered with +PONG (an error reply, e.g. -NOAUTH, is a failure naming it). With
    /// password_env, AUTH comes first, with the password from this gateway's environment.
    /// </summary>
    private static async Task<string?> RedisAsync(NetworkStream stream, string? passwordEnv, CancellationToken ct)
    {
        if (passwordEnv is not null)
        {
            if (Environment.GetEnvironmentVariable(passwordEnv) is not { Length: > 0 } password)
                return $"{passwordEnv} is not set on this gateway (the check's password_env)";
            var length = Encoding.UTF8.GetByteCount(password);
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"*2\r\n$4\r\nAUTH\r\n${length}\r\n{password}\r\n"), ct);
            var auth = await ReadLineAsync(stream, ct);
            if (auth != "+OK") return $"redis refused AUTH with the password in {passwordEnv}: {Quote(auth)}";
        }
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), ct);
        var line = await ReadLineAsync(stream, ct);
        return line == "+PONG" ? null : $"redis answered PING with {Quote(line)}";
    }

    /// <summary>GET PATH must be answered with a 2xx or 3xx status.</summary>
    private static async Task<string?> HttpAsync(NetworkStream stream, string target, string path, CancellationToken ct)
    {
        var request = $"GET {path} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: mesh-health\r\nAccept: */*\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), ct);
        var status = await ReadLineAsync(stream, ct);   // "HTTP/1.1 200 OK"
        var parts = status?.Split(' ', 3);
        if (parts is not { Length: >= 2 } || !parts[0].StartsWith("HTTP/") || !int.TryParse(parts[1], out var code))
            return $"GET {path} was not answered with HTTP: {Quote(status)}";
        return code is >= 200 and < 400 ? null : $"GET {path} answered {status![(parts[0].Length + 1)..]}";
    }

    /// <summary>Reads one CRLF-ended line (at most 512 bytes); null if the peer closed first.</summary>
    private static async Task<string?> ReadLineAsync(NetworkStream stream, CancellationToken ct)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (line.Length < 512)
        {
            if (await stream.ReadAsync(one, ct) == 0) return line.Length == 0 ? null : line.ToString();
            if (one[0] == '\n') return line.ToString().TrimEnd('\r');
            line.Append((char)one[0]);
        }
        return line.ToString();
    }

    private static string Quote(string? line) => line is null ? "nothing (connection closed)" : $"\"{line}\"";
}
