using Switchboard.Kube.Processes;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// Runs iptables inside one named network namespace (<c>ip netns exec NS …</c>), never in the caller's own:
/// a namespace that does not exist makes every call fail instead of falling back to the host's rules.
/// </summary>
internal sealed class NetnsIptables
{
    public NetnsIptables(string networkNamespace)
    {
        Namespace = NetnsProcess.ValidName(networkNamespace);
    }

    public string Namespace { get; }

    /// <summary>Applies an iptables-restore document without flushing what it does not mention.</summary>
    public async Task RestoreAsync(ReadOnlyMemory<byte> document, CancellationToken cancellationToken)
    {
        var result = await RunAsync("iptables-restore", ["--noflush"], document, cancellationToken);
        result.ThrowIfFailed();
    }

    /// <summary>Every table's rules, as <c>iptables-save</c> prints them.</summary>
    public async Task<string> SaveAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync("iptables-save", [], ReadOnlyMemory<byte>.Empty, cancellationToken);
        result.ThrowIfFailed();
        return result.Stdout;
    }

    /// <summary>The chains that <paramref name="table"/> has, from <c>iptables-save</c>.</summary>
    public async Task<IReadOnlyList<string>> ListChainsAsync(string table, CancellationToken cancellationToken)
    {
        var result = await RunAsync("iptables-save", ["-t", table], ReadOnlyMemory<byte>.Empty, cancellationToken);
        result.ThrowIfFailed();
        return [.. SavedRules.Parse(result.Stdout).Chains(table)];
    }

    /// <summary>Whether <paramref name="table"/> has <paramref name="chain"/> (kube-proxy's ChainExists, for the canaries).</summary>
    public async Task<bool> ChainExistsAsync(string table, string chain, CancellationToken cancellationToken) =>
        (await RunAsync("iptables", ["-w", "-t", table, "-S", chain], ReadOnlyMemory<byte>.Empty, cancellationToken)).ExitCode == 0;

    private Task<ToolResult> RunAsync(string program, IReadOnlyList<string> args, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken) =>
        NetnsProcess.RunAsync(Namespace, program, args, stdin, cancellationToken);
}
