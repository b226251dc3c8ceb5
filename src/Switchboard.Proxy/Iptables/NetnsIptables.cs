using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// Runs iptables inside one named network namespace (<c>ip netns exec NS …</c>), never in the caller's own:
/// a namespace that does not exist makes every call fail instead of falling back to the host's rules.
/// </summary>
internal sealed partial class NetnsIptables
{
    public NetnsIptables(string networkNamespace)
    {
        if (!NamespaceName().IsMatch(networkNamespace ?? ""))
        {
            throw new ArgumentException($"'{networkNamespace}' is not a network namespace name", nameof(networkNamespace));
        }

        Namespace = networkNamespace!;
    }

    public string Namespace { get; }

    /// <summary>Applies an iptables-restore document without flushing what it does not mention.</summary>
    public async Task RestoreAsync(ReadOnlyMemory<byte> document, CancellationToken cancellationToken)
    {
        var result = await RunAsync("iptables-restore", ["--noflush"], document, cancellationToken);
        result.ThrowIfFailed();
    }

    /// <summary>The chains that <paramref name="table"/> has, from <c>iptables-save</c>.</summary>
    public async Task<IReadOnlyList<string>> ListChainsAsync(string table, CancellationToken cancellationToken)
    {
        var result = await RunAsync("iptables-save", ["-t", table], ReadOnlyMemory<byte>.Empty, cancellationToken);
        result.ThrowIfFailed();
        return [.. result.Stdout.Split('\n')
            .Where(line => line.StartsWith(':'))
            .Select(line => line[1..line.IndexOf(' ', StringComparison.Ordinal)])];
    }

    /// <summary>Inserts a rule at the head of a chain unless it is there already (kube-proxy's EnsureRule with prepend).</summary>
    public async Task EnsureRuleAsync(string table, string chain, IReadOnlyList<string> rule, CancellationToken cancellationToken)
    {
        var check = await RunAsync("iptables", ["-w", "-t", table, "-C", chain, .. rule], ReadOnlyMemory<byte>.Empty, cancellationToken);
        if (check.ExitCode != 0)
        {
            var insert = await RunAsync("iptables", ["-w", "-t", table, "-I", chain, .. rule], ReadOnlyMemory<byte>.Empty, cancellationToken);
            insert.ThrowIfFailed();
        }
    }

    private async Task<CommandResult> RunAsync(string program, IReadOnlyList<string> args, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in (string[])["netns", "exec", Namespace, program, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start ip netns exec {Namespace} {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            try
            {
                await using var input = process.StandardInput.BaseStream;
                await input.WriteAsync(stdin, cancellationToken);
            }
            catch (IOException)
            {
                // The program exited without reading everything (a missing namespace, a parse error): its exit code
                // and stderr say why.
            }

            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new CommandResult($"ip netns exec {Namespace} {program} {string.Join(' ', args)}", process.ExitCode, await stdout, await stderr);
    }

    // What `ip netns add` accepts as a name under /run/netns: no path separators, not empty.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex NamespaceName();

    private sealed record CommandResult(string Command, int ExitCode, string Stdout, string Stderr)
    {
        public void ThrowIfFailed()
        {
            if (ExitCode != 0)
            {
                throw new InvalidOperationException($"{Command} exited {ExitCode}: {Stderr.Trim()}");
            }
        }
    }
}
