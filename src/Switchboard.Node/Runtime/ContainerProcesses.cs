using System.Globalization;

namespace Switchboard.Node.Runtime;

/// <summary>
/// Finds a running container of a pod on this machine without the agent: every node keeps its pods' runtime state under
/// <c>/run/switchboard/&lt;node namespace&gt;/pods/&lt;uid&gt;/containers/&lt;name&gt;/&lt;n&gt;</c>, whose instance files give
/// the container's pid and user. For <c>switchboard exec</c>, which enters the container's own namespaces (its mounts
/// included).
/// </summary>
public static class ContainerProcesses
{
    public static ExecTarget? Find(string podUid, string container)
    {
        foreach (string node in Directory.Exists(NodeOptions.RunRoot) ? Directory.EnumerateDirectories(NodeOptions.RunRoot) : [])
        {
            string instances = Path.Combine(node, "pods", podUid, "containers", container);
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
}
