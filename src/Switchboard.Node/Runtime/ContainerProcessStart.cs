using System.Diagnostics;

namespace Switchboard.Node.Runtime;

/// <summary>How a container's programs are started (its main process by the monitor, exec's by the node).</summary>
internal static class ContainerProcessStart
{
    /// <summary>
    /// <paramref name="command"/> with its three stdio redirected and exactly <paramref name="environment"/>: nothing of
    /// the starting process's own environment reaches the container.
    /// </summary>
    public static ProcessStartInfo Info(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return info;
    }
}
