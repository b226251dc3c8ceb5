using System.Diagnostics;

namespace Switchboard.Node.Runtime;

/// <summary>How a container's programs are started (its main process by the monitor, exec's by the node).</summary>
internal static class ContainerProcessStart
{
    /// <summary>
    /// <paramref name="command"/> with its three stdio redirected and exactly <paramref name="environment"/>: nothing of
    /// the starting process's own environment reaches the container, nor its ignored signals. A node started in the
    /// background of a shell without job control has SIGINT and SIGQUIT ignored, and an ignored signal stays ignored
    /// across exec: Ctrl-C in `kubectl exec -it` would then never reach the program. `env --default-signal` resets
    /// every signal to its default first, as container runtimes do; the program is found on the node's PATH, not
    /// the container's.
    /// </summary>
    public static ProcessStartInfo Info(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(HostTools.Require("env"))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("--default-signal");
        info.ArgumentList.Add(HostTools.Require(command[0]));
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
