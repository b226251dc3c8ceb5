namespace Switchboard.Node.Kubelet;

/// <summary>The machine's capacity as the node reports it.</summary>
internal static class NodeResources
{
    /// <summary>Clock ticks per second of /proc/stat (USER_HZ, 100 on Linux).</summary>
    private const double UserHz = 100;

    /// <summary>MemTotal of /proc/meminfo, in bytes.</summary>
    public static long MemoryBytes() => MemInfo("MemTotal:");

    /// <summary>The machine's memory working set as cAdvisor counts the root's: in use (total less free) less the inactive page cache.</summary>
    public static long MemoryWorkingSetBytes() => MemInfo("MemTotal:") - MemInfo("MemFree:") - MemInfo("Inactive(file):");

    /// <summary>The cpu time all cpus spent busy since boot, in seconds (the first line of /proc/stat less idle and iowait).</summary>
    public static double CpuSeconds()
    {
        string line = File.ReadLines("/proc/stat").First();
        long[] ticks = [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(t => long.Parse(t, System.Globalization.CultureInfo.InvariantCulture))];
        // user nice system idle iowait irq softirq steal
        return (ticks.Sum() - ticks[3] - ticks[4]) / UserHz;
    }

    private static long MemInfo(string field)
    {
        foreach (string line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidDataException($"/proc/meminfo has no {field}");
    }
}
