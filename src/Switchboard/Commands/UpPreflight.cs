using Switchboard.Node.Runtime;
using Switchboard.Proxy;

namespace Switchboard.Commands;

/// <summary>
/// The programs <c>up</c> runs, checked before it starts anything: a missing one is named with its Debian package and
/// <c>up</c> exits, installing nothing behind the user's back (the README's first command does the install).
/// </summary>
internal static class UpPreflight
{
    /// <summary>What the node runs for every pod: its network, the holder's mounts, the container's entry and user.</summary>
    private static readonly string[] NodePrograms = ["ip", "nsenter", "unshare", "setsid", "setpriv"];

    /// <summary>The sentence that says what is missing and how to install it, or null when everything is there.</summary>
    public static string? Missing(bool node, ProxyMode proxyMode)
    {
        var programs = new List<string>();
        if (node)
        {
            programs.AddRange(NodePrograms);

            // UDP flows to removed endpoints are cleared in every mode; the iptables mode writes its rules with the stock tools.
            programs.Add("conntrack");
            if (proxyMode == ProxyMode.Iptables)
            {
                programs.AddRange(["iptables", "iptables-save", "iptables-restore"]);
            }

            // Every nginx pod (the seed's backend) is Debian's nginx.
            programs.Add("nginx");
        }

        var missing = programs.Where(p => HostTools.Find(p) is null).ToList();
        if (missing.Count == 0)
        {
            return null;
        }

        var packages = missing.Select(p => HostTools.PackageOf(p) ?? p).Distinct(StringComparer.Ordinal).ToList();
        return $"switchboard up needs {string.Join(", ", missing.Select(p => $"{p} (Debian package {HostTools.PackageOf(p) ?? "unknown"})"))}, "
            + $"which {(missing.Count == 1 ? "is" : "are")} not installed; install with: apt-get install {string.Join(' ', packages)}";
    }
}
