using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Switchboard.Node;

namespace Switchboard.Commands;

/// <summary><c>switchboard down</c>: stops the <c>switchboard up</c> of a data dir and waits until it has cleaned up.</summary>
internal static partial class DownCommand
{
    private const int SigTerm = 15;
    private const short PollIn = 1;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var command = new Command("down", "Stop what `switchboard up` started in the data dir and remove everything it made") { dataDir };
        command.SetAction((result, cancellationToken) => RunAsync(new DataDirectory(result.GetRequiredValue(dataDir)), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(DataDirectory dataDir, CancellationToken cancellationToken)
    {
        using var process = RunningInstance.Find(dataDir, out int? pid, out string reason);
        if (process is null)
        {
            Console.WriteLine($"switchboard is not running in {dataDir.Path}: {reason}");
            await RemoveNodesAsync(dataDir, cancellationToken);
            return 0;
        }

        // Through the pidfd checked by Find: the process it names, never one that got its pid since.
        if (PidfdSendSignal(process, SigTerm, 0, 0) != 0)
        {
            Console.Error.WriteLine($"could not signal pid {pid}: errno {Marshal.GetLastPInvokeError()}");
            return 1;
        }

        if (!await WaitForExitAsync(process, cancellationToken))
        {
            Console.Error.WriteLine($"switchboard (pid {pid}) did not stop within {StopTimeout.TotalSeconds}s");
            return 1;
        }

        Console.WriteLine($"stopped switchboard (pid {pid}) in {dataDir.Path}");
        await RemoveNodesAsync(dataDir, cancellationToken);
        return 0;
    }

    /// <summary>Waits until the pidfd turns readable (its process exited), in slices so that a cancelled <c>down</c> ends at once.</summary>
    private static async Task<bool> WaitForExitAsync(SafeFileHandle process, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StopTimeout;
        var poll = new PollFd { Fd = (int)process.DangerousGetHandle(), Events = PollIn };
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Poll(ref poll, 1, 0) > 0)
            {
                return true;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }

        return false;
    }

    /// <summary>A stopped node leaves its pods running (a restart adopts them); down removes them, their namespaces, the nodes' and the underlay joining them.</summary>
    private static async Task RemoveNodesAsync(DataDirectory dataDir, CancellationToken cancellationToken)
    {
        string nodes = Path.Combine(dataDir.Path, "nodes");
        foreach (string node in Directory.Exists(nodes) ? Directory.EnumerateDirectories(nodes) : [])
        {
            await NodeTeardown.RunAsync(NodeCommand.Options(Path.GetFileName(node), dataDir.Path, clusterName: null), cancellationToken);
        }

        await NodeUnderlay.DeleteAsync(ClusterNames.FromDataDirectory(dataDir.Path), cancellationToken);
    }

    [LibraryImport("libc", EntryPoint = "pidfd_send_signal", SetLastError = true)]
    private static partial int PidfdSendSignal(SafeFileHandle pidfd, int signal, nint info, uint flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMilliseconds);

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
