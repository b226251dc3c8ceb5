using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// The dummy interface in the node's namespace that holds every cluster IP as a local /32 address, so the proxy can
/// bind to it and the kernel delivers packets for it locally (and resets connections to a port nobody listens on).
/// Changes go through one <c>ip -n NS -batch -</c> per sync, naming only the addresses that changed.
/// </summary>
internal sealed partial class VipInterface(string networkNamespace)
{
    /// <summary>The interface's name in the node namespace.</summary>
    public const string Name = "sb-vips";

    /// <summary>Creates the interface if it is missing and returns the addresses it holds (from a previous run).</summary>
    public async Task<IReadOnlySet<string>> EnsureAsync(CancellationToken cancellationToken)
    {
        string links = await RunAsync(["-o", "link", "show"], "", cancellationToken);
        if (!links.Split('\n').Any(line => line.Contains($": {Name}:", StringComparison.Ordinal)))
        {
            await RunAsync(["-batch", "-"], $"link add {Name} type dummy\nlink set {Name} up\n", cancellationToken);
        }

        string addresses = await RunAsync(["-o", "-4", "addr", "show", "dev", Name], "", cancellationToken);
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
            batch.Append("addr replace ").Append(ip).Append("/32 dev ").Append(Name).Append('\n');
        }

        foreach (string ip in remove)
        {
            batch.Append("addr del ").Append(ip).Append("/32 dev ").Append(Name).Append('\n');
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
