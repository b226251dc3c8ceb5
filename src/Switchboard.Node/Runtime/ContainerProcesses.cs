using System.Globalization;

namespace Switchboard.Node.Runtime;

/// <summary>
/// Finds a running container of a pod on this machine without the agent: a node's monitor host's command line names
/// its runtime directory, beside which the node keeps its pods (<c>…/pods/&lt;uid&gt;/containers/&lt;name&gt;/&lt;n&gt;</c>),
/// whose instance files give the container's pid and user. For <c>switchboard exec</c>, which enters the container's
/// own namespaces (its mounts included).
/// </summary>
public static class ContainerProcesses
{
    public static ExecTarget? Find(string podUid, string container)
    {
        foreach (string proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out _) || RuntimeDirectory(proc) is not { } runtime)
            {
                continue;
            }

            string instances = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(runtime))!, "pods", podUid, "containers", container);
            int latest = InstanceFiles.LatestRun(instances);
            var files = new InstanceFiles(Path.Combine(instances, latest.ToString(CultureInfo.InvariantCulture)));
            if (latest >= 0 && files.ReadExit() is null && files.ReadPid() is { } started)
            {
                var spec = ContainerSpec.Read(files.Spec);
                return new ExecTarget(started.Pid, spec.RunAsUser, spec.RunAsGroup, spec.Groups);
            }
        }

        return null;
    }

    /// <summary>The runtime directory of a node's monitor host (<c>… runtime monitor DIR</c>), or null for any other process.</summary>
    private static string? RuntimeDirectory(string proc)
    {
        string[] argv;
        try
        {
            argv = File.ReadAllText(Path.Combine(proc, "cmdline")).Split('\0');
        }
        catch (IOException)
        {
            return null;
        }

        int at = Array.IndexOf(argv, "runtime");
        return at >= 0 && at + 2 < argv.Length && argv[at + 1] == "monitor" ? argv[at + 2] : null;
    }
}
