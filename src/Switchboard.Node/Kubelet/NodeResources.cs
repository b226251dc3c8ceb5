namespace Switchboard.Node.Kubelet;

/// <summary>The machine's capacity as the node reports it.</summary>
internal static class NodeResources
{
    /// <summary>MemTotal of /proc/meminfo, in bytes.</summary>
    public static long MemoryBytes()
    {
        foreach (string line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidDataException("/proc/meminfo has no MemTotal");
    }
}
