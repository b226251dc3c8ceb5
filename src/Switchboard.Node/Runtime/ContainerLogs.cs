using System.Globalization;
using k8s.Models;

namespace Switchboard.Node.Runtime;

/// <summary>A container's log directory: <c>N.log</c> per instance (N = restartCount) and its rotated files.</summary>
internal static class ContainerLogs
{
    /// <summary>The log of instance <paramref name="instance"/> of a container: <c>STATE/logs/NS_POD_UID/CONTAINER/N.log</c>, as kubelet lays them out.</summary>
    public static string FilePath(string stateDirectory, V1Pod pod, string container, int instance)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return Path.Combine(stateDirectory, "logs", $"{pod.Metadata.NamespaceProperty}_{pod.Metadata.Name}_{pod.Metadata.Uid}", container,
            instance.ToString(CultureInfo.InvariantCulture) + ".log");
    }

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
