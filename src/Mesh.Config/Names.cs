using System.Text.RegularExpressions;

namespace Mesh.Config;

/// <summary>Gateway, service and mesh names: DNS labels, because they become host names and certificate names.</summary>
public static partial class Names
{
    public const string Rule = "use lowercase letters, digits and '-' (at most 63, not starting or ending with '-')";

    public static bool IsValid(string s) => Pattern().IsMatch(s);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] private static partial Regex Pattern();
}
