namespace Switchboard.Node.Runtime;

/// <summary>Finds programs on the host and names the Debian package that provides a missing one.</summary>
public static class HostTools
{
    private static readonly string[] SearchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        ["ip"] = "iproute2",
        ["bridge"] = "iproute2",
        ["nsenter"] = "util-linux",
        ["unshare"] = "util-linux",
        ["setsid"] = "util-linux",
        ["setpriv"] = "util-linux",
        ["mount"] = "mount",
        ["umount"] = "mount",
        ["pivot_root"] = "util-linux",
        ["iptables"] = "iptables",
        ["iptables-save"] = "iptables",
        ["iptables-restore"] = "iptables",
        ["conntrack"] = "conntrack",
        ["nginx"] = "nginx",
        ["curl"] = "curl",
        ["wget"] = "wget",
        ["busybox"] = "busybox",
        ["nc"] = "netcat-openbsd",
        ["ping"] = "iputils-ping",
        ["dig"] = "bind9-dnsutils",
        ["nslookup"] = "bind9-dnsutils",
        ["host"] = "bind9-host",
        ["bash"] = "bash",
        ["sh"] = "dash",
        ["ps"] = "procps",
        ["env"] = "coreutils",
        ["sleep"] = "coreutils",
    };

    /// <summary>The full path of <paramref name="program"/> (a name looked up on the standard PATH, or a path), or null.</summary>
    public static string? Find(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }

        return SearchPath.Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
    }

    /// <summary>The sentence to show when <paramref name="program"/> is missing.</summary>
    public static string Missing(string program)
    {
        string name = Path.GetFileName(program);
        return Packages.TryGetValue(name, out string? package)
            ? $"exec: \"{program}\": executable file not found in $PATH: install the Debian package {package}"
            : $"exec: \"{program}\": executable file not found in $PATH";
    }

    /// <summary>The Debian package that provides <paramref name="program"/>, if known.</summary>
    public static string? PackageOf(string program) => Packages.GetValueOrDefault(Path.GetFileName(program));

    /// <summary>Throws with the package to install unless <paramref name="program"/> is on the host.</summary>
    public static string Require(string program) => Find(program) ?? throw new InvalidOperationException(Missing(program));
}
