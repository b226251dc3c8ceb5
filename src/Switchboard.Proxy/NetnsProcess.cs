using System.Text.RegularExpressions;
using Switchboard.Kube.Processes;

namespace Switchboard.Proxy;

/// <summary>Runs a program inside one named network namespace (<c>ip netns exec NS …</c>), feeding it stdin and collecting its output.</summary>
internal static partial class NetnsProcess
{
    /// <summary><paramref name="networkNamespace"/> when it is a namespace name; never a path that could lead elsewhere.</summary>
    public static string ValidName(string? networkNamespace) =>
        NamespaceName().IsMatch(networkNamespace ?? "")
            ? networkNamespace!
            : throw new ArgumentException($"'{networkNamespace}' is not a network namespace name", nameof(networkNamespace));

    public static Task<ToolResult> RunAsync(string networkNamespace, string program, IReadOnlyList<string> args, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken) =>
        ToolProcess.RunAsync("ip", ["netns", "exec", networkNamespace, program, .. args], stdin, cancellationToken);

    // What `ip netns add` accepts as a name under /run/netns: no path separators, not empty.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex NamespaceName();
}
