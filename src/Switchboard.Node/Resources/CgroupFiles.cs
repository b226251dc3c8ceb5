using System.Globalization;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Resources;

/// <summary>Reading and removing cgroup directories, v1 or v2 alike (shared by the agent and the container monitor).</summary>
internal static class CgroupFiles
{
    private static readonly TimeSpan RemoveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The processes the kernel's OOM killer has killed in the memory cgroup <paramref name="directory"/> (v2 memory.events, v1 memory.oom_control).</summary>
    public static long OomKills(string directory) =>
        Field(Path.Combine(directory, "memory.events"), "oom_kill") ?? Field(Path.Combine(directory, "memory.oom_control"), "oom_kill") ?? 0;

    /// <summary>The value of the <c>key value</c> line named <paramref name="key"/> in a flat-keyed cgroup file, or null.</summary>
    public static long? Field(string file, string key)
    {
        foreach (string line in ReadLines(file))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && line.AsSpan(0, space).SequenceEqual(key))
            {
                return long.Parse(line.AsSpan(space + 1), CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>A single-number cgroup file (memory.usage_in_bytes, cpuacct.usage…), or null if it is absent.</summary>
    public static long? Number(string file)
    {
        try
        {
            return long.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// SIGKILLs every process in <paramref name="directory"/> and below, then removes the directories, deepest first
    /// (rmdir, as cgroupfs wants; a cgroup is busy until its last process has gone).
    /// </summary>
    public static async Task RemoveTreeAsync(string directory, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (string child in Directory.EnumerateDirectories(directory))
        {
            await RemoveTreeAsync(child, cancellationToken);
        }

        var deadline = DateTime.UtcNow + RemoveTimeout;
        while (true)
        {
            foreach (int pid in Pids(directory))
            {
                Signals.KillProcess(pid, Signals.SigKill);
            }

            try
            {
                Directory.Delete(directory);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Busy: killed processes are still exiting.
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken);
            }
        }
    }

    /// <summary>The pids in the cgroup <paramref name="directory"/> itself.</summary>
    public static IEnumerable<int> Pids(string directory) =>
        ReadLines(Path.Combine(directory, "cgroup.procs")).Select(l => int.Parse(l, CultureInfo.InvariantCulture));

    private static IEnumerable<string> ReadLines(string file)
    {
        try
        {
            return File.ReadAllLines(file).Where(l => l.Length > 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
