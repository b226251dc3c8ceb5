using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Switchboard.Node;

namespace Switchboard.Commands;

/// <summary><c>switchboard down</c>: stops the <c>switchboard up</c> of a data dir and waits until it has cleaned up.</summary>
internal static partial class DownCommand
{
    private const int SigTerm = 15;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var command = new Command("down", "Stop what `switchboard up` started in the data dir and remove everything it made") { dataDir };
        command.SetAction((result, cancellationToken) => RunAsync(new DataDirectory(result.GetRequiredValue(dataDir)), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(DataDirectory dataDir, CancellationToken cancellationToken)
    {
        if (RunningInstance.Find(dataDir) is not { } pid)
        {
            Console.WriteLine($"switchboard is not running in {dataDir.Path}");
            await RemoveNodesAsync(dataDir, cancellationToken);
            return 0;
        }

        using var process = Process.GetProcessById(pid);
        if (Kill(pid, SigTerm) != 0)
        {
            Console.Error.WriteLine($"could not signal pid {pid}: errno {Marshal.GetLastPInvokeError()}");
            return 1;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StopTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine($"switchboard (pid {pid}) did not stop within {StopTimeout.TotalSeconds}s");
            return 1;
        }

        Console.WriteLine($"stopped switchboard (pid {pid}) in {dataDir.Path}");
        await RemoveNodesAsync(dataDir, cancellationToken);
        return 0;
    }

    /// <summary>A stopped node leaves its pods running (a restart adopts them); down removes them, their namespaces and the node's.</summary>
    private static async Task RemoveNodesAsync(DataDirectory dataDir, CancellationToken cancellationToken)
    {
        string nodes = Path.Combine(dataDir.Path, "nodes");
        foreach (string node in Directory.Exists(nodes) ? Directory.EnumerateDirectories(nodes) : [])
        {
            await NodeTeardown.RunAsync(NodeCommand.Options(Path.GetFileName(node), dataDir.Path, clusterName: null), cancellationToken);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
