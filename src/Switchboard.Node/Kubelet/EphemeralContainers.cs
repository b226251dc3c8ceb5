using k8s.Models;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// A pod's ephemeral containers (kubectl debug) as the node runs them: as containers of the pod, in its network, UTS
/// and mount namespaces and its root, never restarted, with no probes, ports or hooks. targetContainerName changes
/// nothing here: this runtime gives no container a PID namespace of its own (every container sees the host's process
/// table), so an ephemeral container sees its target's processes with or without it.
/// </summary>
internal static class EphemeralContainers
{
    /// <summary>Each ephemeral container of the pod, as the container the runtime starts.</summary>
    public static IEnumerable<V1Container> Of(V1Pod pod) => (pod.Spec.EphemeralContainers ?? []).Select(AsContainer);

    /// <summary>Whether <paramref name="name"/> is one of the pod's ephemeral containers.</summary>
    public static bool Contains(V1Pod pod, string name) => pod.Spec.EphemeralContainers?.Any(c => c.Name == name) == true;

    private static V1Container AsContainer(V1EphemeralContainer c) => new()
    {
        Name = c.Name,
        Image = c.Image,
        Command = c.Command,
        Args = c.Args,
        Env = c.Env,
        EnvFrom = c.EnvFrom,
        WorkingDir = c.WorkingDir,
        Stdin = c.Stdin,
        StdinOnce = c.StdinOnce,
        Tty = c.Tty,
        VolumeMounts = c.VolumeMounts,
        SecurityContext = c.SecurityContext,
        ImagePullPolicy = c.ImagePullPolicy,
        TerminationMessagePath = c.TerminationMessagePath,
        TerminationMessagePolicy = c.TerminationMessagePolicy,
    };
}
