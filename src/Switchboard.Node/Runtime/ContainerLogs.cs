using System.Globalization;

namespace Switchboard.Node.Runtime;

/// <summary>A container's log directory: <c>N.log</c> per instance (N = restartCount) and its rotated files.</summary>
internal static class ContainerLogs
{
    /// <summary>Deletes the logs (rotated files included) of the instances before <paramref name="first"/>.</summary>
    public static void RemoveBefore(string directory, int first)
    {
        foreach (string file in Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*.log*") : [])
        {
            string name = Path.GetFileName(file);
            int dot = name.IndexOf('.', StringComparison.Ordinal);
            if (int.TryParse(name.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int instance) && instance < first)
            {
                File.Delete(file);
            }
        }
    }
}
