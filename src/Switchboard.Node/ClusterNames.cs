using System.Security.Cryptography;
using System.Text;

namespace Switchboard.Node;

/// <summary>Short cluster names: the prefix that keeps one cluster's namespaces apart from another's.</summary>
public static class ClusterNames
{
    /// <summary>A 6-hex-digit name from the data directory's full path: the same directory always gives the same name.</summary>
    public static string FromDataDirectory(string dataDirectory)
    {
        string full = Path.GetFullPath(dataDirectory).TrimEnd('/');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..6];
    }

    /// <summary>Whether <paramref name="name"/> is usable in namespace names: 1-12 lowercase letters, digits or '-'.</summary>
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 12 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
}
