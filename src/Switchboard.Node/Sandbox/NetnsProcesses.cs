using Switchboard.Node.Runtime;

namespace Switchboard.Node.Sandbox;

/// <summary>
/// Finds and kills the processes living in network namespaces by their pins, in one pass over /proc (as <c>ip netns
/// pids</c> does for one): what a sandbox's state file does not name — a holder started just before its agent died,
/// anything else that entered the pod — must not outlive the namespace's pin, or nothing could find it again.
/// </summary>
internal static partial class NetnsProcesses
{
    /// <summary>Kills every process in one of the named network namespaces: one pass over /proc, as <c>ip netns pids</c> for each.</summary>
    public static async Task KillAllAsync(IReadOnlyCollection<string> namespaces, CancellationToken cancellationToken)
    {
        // A process's /proc/PID/ns/net links to "net:[inode]"; a pin under /run/netns is that nsfs inode, bind-mounted.
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (string ns in namespaces)
        {
            if (InodeOf(Path.Combine("/run/netns", ns)) is { } inode)
            {
                targets.Add($"net:[{inode}]");
            }
        }

        var killed = new List<(int Pid, long StartTicks)>();
        foreach (string process in targets.Count > 0 ? Directory.EnumerateDirectories("/proc") : [])
        {
            if (int.TryParse(Path.GetFileName(process), out int pid) && pid != Environment.ProcessId && NetNamespaceOf(process) is { } id && targets.Contains(id))
            {
                killed.Add((pid, Signals.StartTicks(pid)));
                Signals.KillProcess(pid, Signals.SigKill);
            }
        }

        foreach (var (pid, startTicks) in killed)
        {
            while (Signals.IsAlive(pid, startTicks))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }
        }
    }

    /// <summary>The "net:[inode]" link of a /proc entry, or null if the process left meanwhile.</summary>
    private static string? NetNamespaceOf(string process)
    {
        try
        {
            return new FileInfo(process + "/ns/net").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The inode of <paramref name="path"/> (statx's stx_ino, at byte 32 of its fixed layout), or null if it is gone.</summary>
    private static ulong? InodeOf(string path)
    {
        Span<byte> statx = stackalloc byte[256];
        return Statx(AtFdCwd, path, 0, StatxIno, ref statx[0]) == 0 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(statx[32..]) : null;
    }

    private const int AtFdCwd = -100;

    private const uint StatxIno = 0x100;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "statx", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);
}
