namespace Switchboard.Node.Runtime;

/// <summary>
/// Finds a running container of a pod on this machine without the agent: its monitor's command line names the
/// instance directory (<c>…/pods/&lt;uid&gt;/containers/&lt;name&gt;/&lt;n&gt;</c>), whose files give the container's
/// pid and user. For <c>switchboard exec</c>, which enters the container's own namespaces (its mounts included).
/// </summary>
public static class ContainerProcesses
{
    public static ExecTarget? Find(string podUid, string container)
    {
        foreach (string proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out _) || InstanceDirectory(proc) is not { } dir)
            {
                continue;
            }

            var instance = new DirectoryInfo(dir);
            if (instance.Parent?.Name != container || instance.Parent.Parent?.Name != "containers" || instance.Parent.Parent.Parent?.Name != podUid)
            {
                continue;
            }

            var files = new InstanceFiles(dir);
            if (files.ReadExit() is null && files.ReadPid() is { } started)
            {
                var spec = ContainerSpec.Read(files.Spec);
                return new ExecTarget(started.Pid, spec.RunAsUser, spec.RunAsGroup, spec.Groups);
            }
        }

        return null;
    }

    /// <summary>The instance directory of a container monitor (<c>… runtime monitor DIR</c>), or null for any other process.</summary>
    private static string? InstanceDirectory(string proc)
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
