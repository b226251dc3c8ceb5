using k8s.Models;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Kubelet;

/// <summary>What the node knows of one container of a pod: its latest instance, how the previous one ended, backoff and probe results.</summary>
internal sealed class ContainerState(string name)
{
    public string Name { get; } = name;

    /// <summary>The latest instance's index: 0 for the first run, +1 per restart (kubelet's restartCount).</summary>
    public int RestartCount { get; set; } = -1;

    public ContainerInstance? Instance { get; set; }

    /// <summary>How the latest instance ended, once it has.</summary>
    public ExitRecord? Exit { get; set; }

    /// <summary>The previous instance's end (lastState), kept when the container restarts.</summary>
    public V1ContainerStateTerminated? LastTerminated { get; set; }

    /// <summary>The delay before the next restart after a crash; zero until the first restart (which is immediate).</summary>
    public TimeSpan Backoff { get; set; }

    /// <summary>Why the container is not running (ContainerCreating, CrashLoopBackOff, ErrImagePull…), when it is not.</summary>
    public (string Reason, string? Message)? Waiting { get; set; } = ("ContainerCreating", null);

    public bool Ready { get; set; }

    /// <summary>The startup probe has succeeded (or there is none and the container runs).</summary>
    public bool Started { get; set; }

    /// <summary>Set by a failed liveness or startup probe: the Killing message; the next sync restarts the container.</summary>
    public string? KillRequested { get; set; }

    public ContainerProbes? Probes { get; set; }

    public bool Running => Instance is not null && Exit is null;
}
