using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// The cluster IPs as local /32 addresses of the node namespace's loopback, labelled <see cref="Label"/> to tell them
/// from anyone else's: the proxy can bind to them, and the kernel delivers packets for them locally (and resets
/// connections to a port nobody listens on). Loopback rather than a dummy interface as IPVS uses (kube-ipvs0): the
/// dummy driver is a module that kernels without modules (this one) lack, while every namespace has a loopback.
/// Changes go through one <c>ip -n NS -batch -</c> per sync, naming only the addresses that changed.
/// </summary>
internal sealed partial class ClusterIpAddresses(string networkNamespace)
{
    /// <summary>The label of Switchboard's addresses on the node namespace's loopback.</summary>
    public const string Label = "lo:sbvip";

    /// <summary>Brings the loopback up and returns the cluster IPs it holds (from a previous run).</summary>
    public async Task<IReadOnlySet<string>> EnsureAsync(CancellationToken cancellationToken)
    {
        await RunAsync(["link", "set", "lo", "up"], "", cancellationToken);
        string addresses = await RunAsync(["-o", "-4", "addr", "show", "dev", "lo", "label", Label], "", cancellationToken);
        return Address().Matches(addresses).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Adds and removes /32 addresses in one batch; nothing runs when both lists are empty.</summary>
    public async Task ChangeAsync(IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, CancellationToken cancellationToken)
    {
        if (add.Count == 0 && remove.Count == 0)
        {
            return;
        }

        var batch = new StringBuilder();
        foreach (string ip in add)
        {
            batch.Append("addr replace ").Append(ip).Append("/32 dev lo label ").Append(Label).Append('\n');
        }

        foreach (string ip in remove)
        {
            batch.Append("addr del ").Append(ip).Append("/32 dev lo label ").Append(Label).Append('\n');
        }

        await RunAsync(["-batch", "-"], batch.ToString(), cancellationToken);
    }

    private async Task<string> RunAsync(IReadOnlyList<string> args, string input, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add(networkNamespace);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start ip");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken);
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip -n {networkNamespace} {string.Join(' ', args)} exited {process.ExitCode}: {(await stderr).Trim()}");
        }

        return await stdout;
    }

    [GeneratedRegex(@"inet (\d+\.\d+\.\d+\.\d+)/32")]
    private static partial Regex Address();
}
