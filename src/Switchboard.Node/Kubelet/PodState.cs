using k8s.Models;
using Switchboard.Node.Sandbox;

namespace Switchboard.Node.Kubelet;

/// <summary>The node's view of one pod (by uid): its sandbox, its containers, and the last status it wrote.</summary>
internal sealed class PodState(string uid, string key)
{
    public string Uid { get; } = uid;

    public string Key { get; } = key;

    public PodSandbox? Sandbox { get; set; }

    public SandboxState? SandboxState { get; set; }

    public Dictionary<string, ContainerState> Containers { get; } = new(StringComparer.Ordinal);

    public DateTime? StartTime { get; set; }

    /// <summary>The sandbox could not be made: why.</summary>
    public string? SandboxError { get; set; }

    /// <summary>
    /// The status last written: the base of the next one's condition transition times, and its JSON, so an unchanged
    /// status is not written again.
    /// </summary>
    public (V1PodStatus Status, string Json)? Written { get; set; }

    /// <summary>The phase reached Succeeded or Failed: containers are stopped and the sandbox removed.</summary>
    public bool Terminal { get; set; }

    /// <summary>When the sync that refreshes the pod's projected tokens is queued for (null: none yet).</summary>
    public DateTimeOffset? TokenSyncAt { get; set; }
}
