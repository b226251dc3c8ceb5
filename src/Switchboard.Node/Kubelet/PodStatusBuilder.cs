using k8s.Models;
using Switchboard.Kube.Pods;

namespace Switchboard.Node.Kubelet;

/// <summary>The pod status kubelet would write (getPhase, generate.go, convertToAPIContainerStatuses), from the node's view of the pod.</summary>
internal static class PodStatusBuilder
{
    /// <summary>
    /// The status of <paramref name="pod"/> now; a condition's transition time carries over from
    /// <paramref name="written"/>, the status this node last wrote, when there is one: the pod in the informer's cache
    /// may not show it yet, and a sync on such a stale pod moved the times back and forth, a needless write each time
    /// (kubelet's status manager keeps its own cache of what it wrote for the same reason).
    /// </summary>
    public static V1PodStatus Build(V1Pod pod, PodState state, string hostIp, DateTime now, V1PodStatus? written = null)
    {
        var old = pod.Status;
        bool hasInit = pod.Spec.InitContainers is { Count: > 0 };
        var statuses = pod.Spec.Containers.Select(c => ContainerStatus(c, state.Containers.GetValueOrDefault(c.Name), hasInit, init: false))
            .OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        var initStatuses = (pod.Spec.InitContainers ?? []).Select(c => ContainerStatus(c, state.Containers.GetValueOrDefault(c.Name), hasInit, init: true)).ToList();
        // Ephemeral containers never count towards the pod's readiness or phase, and are never Ready themselves.
        var ephemeralStatuses = EphemeralContainers.Of(pod).Select(c => ContainerStatus(c, state.Containers.GetValueOrDefault(c.Name), hasInit, init: false)).ToList();
        ephemeralStatuses.ForEach(s => s.Ready = false);
        string phase = old?.Phase is "Succeeded" or "Failed" ? old.Phase : Phase(pod, initStatuses, statuses);
        bool terminal = phase is "Succeeded" or "Failed";
        string? ip = state.SandboxState?.Ip ?? old?.PodIP;
        var unready = statuses.Where(s => !s.Ready).Select(s => s.Name).ToList();
        bool sandboxUp = state.SandboxState is not null && !terminal;
        V1PodCondition Condition(string type, bool status, string? reason = null, string? message = null)
        {
            var previous = (written ?? old)?.Conditions?.FirstOrDefault(c => c.Type == type);
            string value = status ? "True" : "False";
            return new V1PodCondition
            {
                Type = type,
                Status = value,
                Reason = reason,
                Message = message,
                LastProbeTime = null,
                LastTransitionTime = previous?.Status == value ? previous.LastTransitionTime : now,
            };
        }

        string? readyReason = terminal ? "PodCompleted" : unready.Count > 0 ? "ContainersNotReady" : null;
        string? readyMessage = !terminal && unready.Count > 0 ? $"containers with unready status: [{string.Join(' ', unready)}]" : null;
        // Initialized: every init container succeeded, or an app container has run already (kubelet's generate.go).
        var incomplete = initStatuses.Where(s => s.State.Terminated is not { ExitCode: 0 }).Select(s => s.Name).ToList();
        bool appStarted = statuses.Any(s => s.State.Running is not null || s.State.Terminated is not null || s.LastState?.Terminated is not null);
        bool initialized = incomplete.Count == 0 || appStarted;
        var conditions = new List<V1PodCondition>
        {
            Condition("PodReadyToStartContainers", sandboxUp),
            initialized
                ? Condition("Initialized", true, phase == "Succeeded" && hasInit ? "PodCompleted" : null)
                : Condition("Initialized", false, "ContainersNotInitialized", $"containers with incomplete status: [{string.Join(' ', incomplete)}]"),
            Condition("Ready", !terminal && unready.Count == 0, readyReason, readyMessage),
            Condition("ContainersReady", !terminal && unready.Count == 0, readyReason, readyMessage),
            old?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled") ?? Condition("PodScheduled", true),
        };
        conditions.AddRange(old?.Conditions?.Where(c => c.Type is not ("PodReadyToStartContainers" or "Initialized" or "Ready" or "ContainersReady" or "PodScheduled")) ?? []);
        return new V1PodStatus
        {
            Phase = phase,
            Conditions = conditions,
            HostIP = hostIp,
            HostIPs = [new V1HostIP { Ip = hostIp }],
            PodIP = ip,
            PodIPs = ip is null ? null : [new V1PodIP { Ip = ip }],
            StartTime = state.StartTime ?? old?.StartTime,
            QosClass = old?.QosClass ?? PodQos.Of(pod.Spec),
            ContainerStatuses = statuses,
            InitContainerStatuses = initStatuses.Count > 0 ? initStatuses : null,
            EphemeralContainerStatuses = ephemeralStatuses.Count > 0 ? ephemeralStatuses : null,
        };
    }

    /// <summary>kubelet's getPhase: init containers still to succeed keep the pod Pending; one failed under restartPolicy Never fails it.</summary>
    private static string Phase(V1Pod pod, List<V1ContainerStatus> initStatuses, List<V1ContainerStatus> statuses)
    {
        int pendingInit = 0, failedInit = 0;
        foreach (var status in initStatuses)
        {
            if (status.State.Terminated is { } done)
            {
                failedInit += done.ExitCode != 0 ? 1 : 0;
            }
            else if (status.State.Waiting is not null && status.LastState?.Terminated is { } last)
            {
                failedInit += last.ExitCode != 0 ? 1 : 0;
            }
            else
            {
                pendingInit++;
            }
        }

        if (failedInit > 0 && pod.Spec.RestartPolicy == "Never")
        {
            return "Failed";
        }

        if (pendingInit > 0)
        {
            return "Pending";
        }

        int waiting = 0, running = 0, stopped = 0, succeeded = 0;
        foreach (var status in statuses)
        {
            if (status.State.Running is not null)
            {
                running++;
            }
            else if (status.State.Terminated is { } terminated)
            {
                stopped++;
                succeeded += terminated.ExitCode == 0 ? 1 : 0;
            }
            else if (status.LastState?.Terminated is { } last)
            {
                stopped++;
                succeeded += last.ExitCode == 0 ? 1 : 0;
            }
            else
            {
                waiting++;
            }
        }

        string policy = pod.Spec.RestartPolicy ?? "Always";
        return waiting > 0 ? "Pending"
            : running > 0 ? "Running"
            : stopped == 0 ? "Pending"
            : policy == "Always" ? "Running"
            : stopped == succeeded ? "Succeeded"
            : policy == "Never" ? "Failed"
            : "Running";
    }

    /// <summary>A container's status; before its first start it waits as ContainerCreating, or PodInitializing in a pod with init containers.</summary>
    private static V1ContainerStatus ContainerStatus(V1Container container, ContainerState? state, bool hasInit, bool init)
    {
        var status = new V1ContainerStatus
        {
            Name = container.Name,
            Image = container.Image,
            ImageID = "",
            RestartCount = Math.Max(0, state?.RestartCount ?? 0),
            Ready = false,
            Started = false,
            LastState = new V1ContainerState { Terminated = state?.LastTerminated },
        };
        if (state?.Instance is { } instance)
        {
            status.ContainerID = ContainerId(instance.Files.Directory);
        }

        string created = hasInit ? "PodInitializing" : "ContainerCreating";
        if (state?.Waiting is { } waiting)
        {
            string reason = waiting.Reason == "ContainerCreating" ? created : waiting.Reason;
            status.State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = waiting.Message } };
        }
        else if (state?.Exit is { } exit && state.Instance is { } ended)
        {
            status.State = new V1ContainerState { Terminated = Terminated(exit, ended.StartedAt, status.ContainerID) };
            // An init container that succeeded counts as ready (and started), as kubelet reports it.
            status.Ready = init && exit.ExitCode == 0;
            status.Started = false;
        }
        else if (state?.Instance is { } running)
        {
            status.State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = Seconds(running.StartedAt) } };
            status.Started = state.Started;
            status.Ready = state.Ready;
        }
        else
        {
            status.State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = created } };
        }

        return status;
    }

    public static V1ContainerStateTerminated Terminated(Runtime.ExitRecord exit, DateTimeOffset startedAt, string? containerId) => new()
    {
        ExitCode = exit.ExitCode,
        Reason = exit.Reason,
        Message = exit.Message,
        StartedAt = Seconds(startedAt),
        FinishedAt = Seconds(exit.FinishedAt),
        ContainerID = containerId,
    };

    /// <summary><c>switchboard://&lt;64 hex&gt;</c>, stable for an instance directory.</summary>
    public static string ContainerId(string instanceDirectory) =>
        "switchboard://" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(instanceDirectory)));

    private static DateTime Seconds(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
    }
}
