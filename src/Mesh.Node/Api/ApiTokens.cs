using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Mesh.Node.Api;

/// <summary>The API's credentials are unusable: the message names the flag or variable and what to do.</summary>
public sealed class ApiTokenException(string message) : Exception(message);

public enum ApiAccess { None, Read, Admin }

/// <summary>
/// The API's bearer tokens: an admin token (reads and writes) and a read token (reads only). Each is at
/// least <see cref="MinLength"/> characters; a token file is read for its first non-empty line, and a file
/// (or variable) that gives none is an error at start, never a token that matches nothing.
/// </summary>
public sealed record ApiTokens(string? Admin, string? Read, bool PublicReads)
{
    public const int MinLength = 16;

    public static ApiTokens From(NodeOptions o)
    {
        var admin = Token("--api-token-file", o.ApiTokenFile, "MESH_API_TOKEN");
        var read = Token("--api-read-token-file", o.ApiReadTokenFile, "MESH_API_READ_TOKEN");
        if (admin is null && read is null && !o.ApiPublicReads)
            throw new ApiTokenException("--api needs credentials: reads and writes need a token now. Give --api-token-file FILE (admin) "
                                        + "and/or --api-read-token-file FILE (reads), or --api-public-reads to serve reads without one");
        if (admin is not null && admin == read)
            throw new ApiTokenException("the read token and the admin token are the same: the read token would allow writes");
        return new ApiTokens(admin, read, o.ApiPublicReads);
    }

    private static string? Token(string flag, string? file, string variable)
    {
        string? token;
        string from;
        if (file is not null)
        {
            from = $"{flag} {file}";
            token = File.ReadLines(file).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0)
                    ?? throw new ApiTokenException($"{from}: the file holds no token (it is empty or blank)");
        }
        else if (Environment.GetEnvironmentVariable(variable) is { } env)
        {
            from = variable;
            token = env.Trim();
            if (token.Length == 0) throw new ApiTokenException($"{variable} is set but empty: unset it, or give a token");
        }
        else return null;
        if (token.Length < MinLength)
            throw new ApiTokenException($"{from}: the token has {token.Length} characters; use at least {MinLength} (e.g. head -c 24 /dev/urandom | base64)");
        return token;
    }

    /// <summary>What the request's bearer token allows (compared in constant time).</summary>
    public ApiAccess AccessOf(HttpRequest request)
    {
        var given = request.Headers.Authorization.ToString();
        if (Admin is not null && Matches(given, Admin)) return ApiAccess.Admin;
        if (Read is not null && Matches(given, Read)) return ApiAccess.Read;
        return PublicReads ? ApiAccess.Read : ApiAccess.None;
    }

    private static bool Matches(string given, string token) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes($"Bearer {token}"));
}
