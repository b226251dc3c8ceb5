using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Netlink;
using Switchboard.Kube.Queues;
using Switchboard.Node.Images;
using Switchboard.Node.Runtime;
using Switchboard.Node.Sandbox;
using Switchboard.Node.Volumes;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// Kubelet's pod loop: brings each pod bound to the node to what its spec asks (volumes, sandbox, init containers in
/// order, containers, restarts with backoff, probes, lifecycle hooks), writes its status through pods/status, and on
/// deletion stops it, removes its sandbox and deletes the object with grace 0. One sync per pod at a time (the work
/// queue's guarantee).
/// </summary>
internal sealed partial class PodSyncer
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan BackoffReset = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MinimumStopGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MountRetry = TimeSpan.FromSeconds(5);

    /// <summary>A token's sync comes this long after it is due, so the clock has passed the due time when it runs.</summary>
    private static readonly TimeSpan TokenSyncSlack = TimeSpan.FromSeconds(1);
    private readonly IKubernetes _client;
    private readonly Informer<V1Pod> _pods;
    private readonly Informer<V1Service> _services;
    private readonly SandboxManager _sandboxes;
    private readonly PodVolumes _volumes;
    private readonly TokenManager _tokens;
    private readonly ContainerRuntime _runtime;
    private readonly ImageCatalog _images;
    private readonly ContainerEnv _env;
    private readonly ProbeRunner _prober;
    private readonly NodeEvents _events;
    private readonly NodeOptions _options;
    private readonly string _hostIp;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, PodState> _states = new(StringComparer.Ordinal);

    public PodSyncer(IKubernetes client, Informer<V1Pod> pods, Informer<V1Service> services, SandboxManager sandboxes, PodVolumes volumes, TokenManager tokens, ContainerRuntime runtime,
        ImageCatalog images, ContainerEnv env, ProbeRunner prober, NodeEvents events, NodeOptions options, IPAddress hostIp, TimeProvider time, ILogger logger)
    {
        _client = client;
        _pods = pods;
        _services = services;
        _sandboxes = sandboxes;
        _volumes = volumes;
        _tokens = tokens;
        _runtime = runtime;
        _images = images;
        _env = env;
        _prober = prober;
        _events = events;
        _options = options;
        _hostIp = hostIp.ToString();
        _time = time;
        _logger = logger;
    }

    public WorkQueue<string> Queue { get; } = new();

    /// <summary>The pods the node runs now, with what it knows of them (for the resource metrics).</summary>
    public IEnumerable<(V1Pod Pod, PodState State)> Pods()
    {
        foreach (var state in _states.Values)
        {
            if (_pods.Cache.Get(state.Key) is { } pod && pod.Metadata.Uid == state.Uid)
            {
                yield return (pod, state);
            }
        }
    }

    /// <summary>Removes what belongs to pods no longer bound here (after a restart of the agent: pods deleted meanwhile).</summary>
    public async Task CleanUpOrphansAsync(CancellationToken cancellationToken)
    {
        var wanted = _pods.Cache.List().Select(p => p.Metadata.Uid).ToHashSet(StringComparer.Ordinal);
        foreach (string uid in await _sandboxes.ListAsync(cancellationToken))
        {
            if (!wanted.Contains(uid))
            {
                LogOrphan(_logger, uid);
                await KillInstancesAsync(_sandboxes.For(uid), cancellationToken);
                await _sandboxes.RemoveAsync(uid, cancellationToken);
                _sandboxes.RemoveLogs(uid);
            }
        }
    }

    /// <summary>Checks running containers for an exit their monitor recorded; a pod with one is synced.</summary>
    public void PollExits()
    {
        foreach (var state in _states.Values)
        {
            foreach (var container in state.Containers.Values)
            {
                if (container.Running && container.Instance!.Files.ReadExit() is not null)
                {
                    Queue.AddFirst(state.Key);
                    break;
                }
            }
        }
    }

    public async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var pod = _pods.Cache.Get(key);
        var state = _states.GetValueOrDefault(key);
        if (state is not null && (pod is null || pod.Metadata.Uid != state.Uid))
        {
            // Gone from the API (or replaced by a namesake): nothing left to report, only to stop.
            await TerminateAsync(state, pod?.Metadata.Uid == state.Uid ? pod : null, TimeSpan.FromSeconds(2), cancellationToken);
            _sandboxes.RemoveLogs(state.Uid);
            _tokens.Forget(state.Uid);
            _states.TryRemove(key, out _);
            state = null;
        }

        if (pod is null)
        {
            return;
        }

        state ??= _states.GetOrAdd(key, _ => Adopt(pod));
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            long grace = pod.Metadata.DeletionGracePeriodSeconds ?? pod.Spec.TerminationGracePeriodSeconds ?? 30;
            await TerminateAsync(state, pod, TimeSpan.FromSeconds(grace), cancellationToken);
            _sandboxes.RemoveLogs(state.Uid);
            _tokens.Forget(state.Uid);
            _states.TryRemove(key, out _);
            await DeleteAsync(pod, cancellationToken);
            return;
        }

        if (state.Terminal)
        {
            return;
        }

        // Volumes before the sandbox, as kubelet waits for them: a pod whose configMap is missing has no IP yet.
        IReadOnlyList<ResolvedVolume> volumes;
        try
        {
            volumes = await _volumes.ResolveAsync(pod, cancellationToken);
        }
        catch (VolumeException e)
        {
            await MountFailedAsync(pod, state, e, cancellationToken);
            return;
        }

        if (!await EnsureSandboxAsync(pod, state, cancellationToken))
        {
            await WriteStatusAsync(pod, state, cancellationToken);
            Queue.AddAfter(key, TimeSpan.FromSeconds(5));
            return;
        }

        try
        {
            await _volumes.SetUpAsync(state.Sandbox!, state.SandboxState!.HolderPid, pod, volumes);
        }
        catch (VolumeException e)
        {
            await MountFailedAsync(pod, state, e, cancellationToken);
            return;
        }

        var serviceEnv = ServiceEnvFor(pod);
        if (await SyncInitContainersAsync(pod, state, volumes, serviceEnv, cancellationToken))
        {
            foreach (var container in pod.Spec.Containers.Concat(EphemeralContainers.Of(pod)))
            {
                await SyncContainerAsync(pod, state, container, volumes, serviceEnv, init: false, cancellationToken);
            }
        }

        var status = await WriteStatusAsync(pod, state, cancellationToken);
        if (status.Phase is "Succeeded" or "Failed")
        {
            // Nothing will run again: release the sandbox (the status keeps the pod's IP, as kubelet's does).
            state.Terminal = true;
            await TerminateAsync(state, pod, TimeSpan.Zero, cancellationToken);
            _tokens.Forget(state.Uid);
        }
        else if (_tokens.UntilDue(pod.Metadata.Uid) is { } due)
        {
            // Kubelet's periodic sync rewrites projected tokens once due; here a sync is queued for when the first one is.
            var now = _time.GetUtcNow();
            var at = now + due + TokenSyncSlack;
            if (state.TokenSyncAt is not { } queued || queued <= now || queued > at)
            {
                state.TokenSyncAt = at;
                Queue.AddAfter(key, at - now);
            }
        }
    }

    private PodState Adopt(V1Pod pod)
    {
        var state = new PodState(pod.Metadata.Uid, ObjectKey.Of(pod));
        if (_sandboxes.Find(pod.Metadata.Uid) is not { } found)
        {
            return state;
        }

        // The agent restarted: the sandbox and the containers' monitors outlived it. Pick up each container's latest instance.
        state.Sandbox = found.Sandbox;
        state.SandboxState = found.State;
        state.StartTime = found.State.CreatedAt.UtcDateTime;
        foreach (var container in pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).Concat(EphemeralContainers.Of(pod)))
        {
            int latest = InstanceFiles.LatestRun(Path.Combine(found.Sandbox.ContainersDirectory, container.Name));
            if (latest < 0 || ContainerRuntime.Adopt(found.Sandbox.InstanceDirectory(container.Name, latest)) is not { } instance)
            {
                continue;
            }

            var cs = new ContainerState(container.Name) { RestartCount = latest, Instance = instance, Waiting = null, Exit = instance.Files.ReadExit() };
            cs.Started = container.StartupProbe is null;
            cs.Ready = cs.Started && container.ReadinessProbe is null && cs.Exit is null;
            state.Containers[container.Name] = cs;
            if (cs.Running)
            {
                StartProbes(pod, state, container, cs);
            }
            else if (cs.Exit is { } exit && (EphemeralContainers.Contains(pod, container.Name) || !ShouldRestart(pod, exit.ExitCode, IsInit(pod, container))))
            {
                cs.Waiting = null;
            }

            LogAdopted(_logger, state.Key, container.Name, instance.Pid);
        }

        return state;
    }

    private async Task<bool> EnsureSandboxAsync(V1Pod pod, PodState state, CancellationToken cancellationToken)
    {
        if (state.SandboxState is { } current && Signals.IsAlive(current.HolderPid, current.HolderStartTicks))
        {
            return true;
        }

        try
        {
            if (state.SandboxState is not null)
            {
                // The holder died: every container with it. Kubelet kills and re-creates such a sandbox.
                _events.Pod(pod, null, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
                await TerminateAsync(state, pod, TimeSpan.Zero, cancellationToken);
                state.Containers.Clear();
            }

            (state.Sandbox, state.SandboxState) = await _sandboxes.CreateAsync(pod, cancellationToken);
            state.StartTime ??= _time.GetUtcNow().UtcDateTime;
            state.SandboxError = null;
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or CommandFailedException or IOException)
        {
            state.SandboxError = e.Message;
            _events.Pod(pod, null, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: " + e.Message);
            LogSandboxFailed(_logger, state.Key, e.Message);
            return false;
        }
    }

    /// <summary>
    /// Runs the init containers one at a time in spec order, each to a zero exit (a failing one restarts with backoff,
    /// or fails the pod under restartPolicy Never); true once all have succeeded, so the app containers may start.
    /// </summary>
    private async Task<bool> SyncInitContainersAsync(V1Pod pod, PodState state, IReadOnlyList<ResolvedVolume> volumes, IReadOnlyDictionary<string, string> serviceEnv,
        CancellationToken cancellationToken)
    {
        foreach (var container in pod.Spec.InitContainers ?? [])
        {
            await SyncContainerAsync(pod, state, container, volumes, serviceEnv, init: true, cancellationToken);
            if (state.Containers[container.Name] is not { Running: false, Exit.ExitCode: 0 })
            {
                return false;
            }
        }

        return true;
    }

    private async Task SyncContainerAsync(V1Pod pod, PodState state, V1Container container, IReadOnlyList<ResolvedVolume> volumes, IReadOnlyDictionary<string, string> serviceEnv,
        bool init, CancellationToken cancellationToken)
    {
        var cs = state.Containers.TryGetValue(container.Name, out var known) ? known : state.Containers[container.Name] = new ContainerState(container.Name);
        var now = _time.GetUtcNow();
        if (cs.Running && cs.KillRequested is { } why)
        {
            _events.Pod(pod, container.Name, "Normal", "Killing", why);
            cs.Exit = await StopContainerAsync(pod, state, container, cs, TimeSpan.FromSeconds(pod.Spec.TerminationGracePeriodSeconds ?? 30), cancellationToken);
        }

        if (cs.Running)
        {
            cs.Exit = cs.Instance!.Files.ReadExit();
        }

        if (cs.Running)
        {
            return;
        }

        if (cs.Instance is { } ended && cs.Exit is { } exit)
        {
            cs.Probes?.Dispose();
            cs.Probes = null;
            cs.Ready = false;
            if (EphemeralContainers.Contains(pod, container.Name) || !ShouldRestart(pod, exit.ExitCode, init))
            {
                cs.Waiting = null;
                return;
            }

            if (exit.FinishedAt - ended.StartedAt > BackoffReset)
            {
                cs.Backoff = TimeSpan.Zero;
            }

            cs.LastTerminated = PodStatusBuilder.Terminated(exit, ended.StartedAt, PodStatusBuilder.ContainerId(ended.Files.Directory));
            if (cs.Backoff > TimeSpan.Zero && now < exit.FinishedAt + cs.Backoff)
            {
                cs.Waiting = ("CrashLoopBackOff", $"back-off {GoDuration(cs.Backoff)} restarting failed container={container.Name} pod={pod.Metadata.Name}_{pod.Metadata.NamespaceProperty}({pod.Metadata.Uid})");
                _events.Pod(pod, container.Name, "Warning", "BackOff", $"Back-off restarting failed container {container.Name} in pod {pod.Metadata.Name}_{pod.Metadata.NamespaceProperty}({pod.Metadata.Uid})");
                Queue.AddAfter(state.Key, exit.FinishedAt + cs.Backoff - now);
                return;
            }

            cs.Backoff = cs.Backoff == TimeSpan.Zero ? InitialBackoff : TimeSpan.FromTicks(Math.Min(cs.Backoff.Ticks * 2, MaxBackoff.Ticks));
        }

        await StartContainerAsync(pod, state, container, cs, volumes, serviceEnv, cancellationToken);
    }

    private async Task StartContainerAsync(V1Pod pod, PodState state, V1Container container, ContainerState cs, IReadOnlyList<ResolvedVolume> volumes,
        IReadOnlyDictionary<string, string> serviceEnv, CancellationToken cancellationToken)
    {
        var sandbox = state.Sandbox!;
        Dictionary<string, string> env;
        try
        {
            env = await _env.BuildAsync(pod, container, serviceEnv, cancellationToken);
        }
        catch (ContainerConfigException e)
        {
            SetWaiting(pod, state, container, cs, "CreateContainerConfigError", e.Message);
            return;
        }

        string? Lookup(string name) => env.GetValueOrDefault(name);
        var command = (container.Command ?? []).Select(c => EnvExpansion.Expand(c, Lookup)).ToList();
        var args = (container.Args ?? []).Select(a => EnvExpansion.Expand(a, Lookup)).ToList();
        int holderPid = state.SandboxState!.HolderPid;
        var image = _images.Resolve(pod, container, command, args, sandbox.RootFromHost(holderPid));
        if (image.Argv is null)
        {
            SetWaiting(pod, state, container, cs, image.Reason!, image.Message!);
            return;
        }

        _events.Pod(pod, container.Name, "Normal", "Pulled", $"Container image \"{container.Image}\" already present on machine");
        env.TryAdd("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.TryAdd("HOSTNAME", PodHostname.Hostname(pod));
        env.TryAdd("HOME", "/root");
        if (container.Tty == true)
        {
            // As container runtimes set it for a terminal: programs need it to drive one.
            env.TryAdd("TERM", "xterm");
        }

        IReadOnlyList<ContainerMount> mounts;
        try
        {
            mounts = PodVolumes.Mounts(sandbox, holderPid, container, volumes, Lookup);
        }
        catch (VolumeException e)
        {
            SetWaiting(pod, state, container, cs, "CreateContainerConfigError", e.Message);
            return;
        }

        int restart = cs.RestartCount + 1;
        var user = RunAs.Of(pod, container);
        var spec = new ContainerSpec
        {
            Argv = image.Argv,
            Env = env,
            WorkingDir = string.IsNullOrEmpty(container.WorkingDir) ? "/" : container.WorkingDir,
            HolderPid = holderPid,
            Root = sandbox.RootDirectory,
            Mounts = mounts,
            LogPath = ContainerLogs.FilePath(_options.StateDirectory, pod, container.Name, restart),
            LogMaxBytes = _options.ContainerLogMaxSize,
            LogMaxFiles = _options.ContainerLogMaxFiles,
            Stdin = container.Stdin == true || container.Tty == true,
            Tty = container.Tty == true,
            StdinOnce = container.StdinOnce == true,
            RunAsUser = user.User,
            RunAsGroup = user.Group,
            Groups = user.Groups,
        };
        _sandboxes.WriteEtcFiles(sandbox, pod, IPAddress.Parse(state.SandboxState.Ip));
        // One dead instance's log stays, for logs --previous; older ones go, as kubelet removes dead containers.
        ContainerLogs.RemoveBefore(Path.GetDirectoryName(spec.LogPath)!, restart - 1);
        try
        {
            if (_sandboxes.Cgroups is { } cgroups)
            {
                spec = spec with { Cgroup = await cgroups.CreateContainerAsync(pod, container, restart, cancellationToken) };
            }

            var instance = await _runtime.StartAsync(sandbox.InstanceDirectory(container.Name, restart), spec, cancellationToken);
            _events.Pod(pod, container.Name, "Normal", "Created", $"Created container {container.Name}");
            _events.Pod(pod, container.Name, "Normal", "Started", $"Started container {container.Name}");
            cs.RestartCount = restart;
            cs.Instance = instance;
            cs.Exit = null;
            cs.Waiting = null;
            cs.KillRequested = null;
            cs.Started = container.StartupProbe is null;
            cs.Ready = cs.Started && container.ReadinessProbe is null;
            if (container.Lifecycle?.PostStart is { } postStart)
            {
                await PostStartAsync(pod, state, container, cs, postStart, cancellationToken);
            }

            if (cs.Running)
            {
                StartProbes(pod, state, container, cs);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            SetWaiting(pod, state, container, cs, "RunContainerError", e.Message);
        }
    }

    private void SetWaiting(V1Pod pod, PodState state, V1Container container, ContainerState cs, string reason, string message)
    {
        if (cs.Waiting?.Reason != reason || cs.Waiting?.Message != message)
        {
            _events.Pod(pod, container.Name, "Warning", "Failed", "Error: " + message);
        }

        cs.Waiting = (reason, message);
        // Kubelet retries on every sync; a missing ConfigMap or tool may appear.
        Queue.AddAfter(state.Key, TimeSpan.FromSeconds(10));
    }

    private void StartProbes(V1Pod pod, PodState state, V1Container container, ContainerState cs)
    {
        if (container.ReadinessProbe is null && container.LivenessProbe is null && container.StartupProbe is null)
        {
            return;
        }

        string netns = _sandboxes.NetworkNamespace(state.Uid);
        cs.Probes = new ContainerProbes(_prober, container, cs, state.SandboxState!.Ip, Target(pod, container, cs),
            new ListeningPorts(() => NetlinkSocket.Open(netns, NetlinkSocket.NetlinkSockDiag)), _time,
            // Ahead of the pods waiting for their first sync: a burst of 50 queued behind 16 workers held a pod's
            // readiness back from its status for 350 ms (bench/node.sh), where kubelet's status manager writes it at once.
            () => Queue.AddFirst(state.Key),
            (kind, output) => _events.Pod(pod, container.Name, "Warning", "Unhealthy", $"{kind} probe failed: {output}"));
    }

    /// <summary>
    /// postStart runs right after the start, holding the sync as kubelet's does; a failure kills the container (it then
    /// restarts by its policy). The event hides the hook's output, which may hold secrets.
    /// </summary>
    private async Task PostStartAsync(V1Pod pod, PodState state, V1Container container, ContainerState cs, V1LifecycleHandler hook, CancellationToken cancellationToken)
    {
        var grace = TimeSpan.FromSeconds(pod.Spec.TerminationGracePeriodSeconds ?? 30);
        var (ok, output) = await _prober.RunHookAsync(hook, container, state.SandboxState!.Ip, Target(pod, container, cs), Timeout.InfiniteTimeSpan, _time, cancellationToken);
        if (ok || !cs.Running)
        {
            return;
        }

        LogHookFailed(_logger, "PostStart", state.Key, container.Name, output);
        _events.Pod(pod, container.Name, "Warning", "FailedPostStartHook", "PostStartHook failed");
        _events.Pod(pod, container.Name, "Normal", "Killing", "FailedPostStartHook");
        cs.Exit = await _runtime.StopAsync(cs.Instance!, grace, cancellationToken);
        Queue.Add(state.Key);
    }

    /// <summary>
    /// Stops one container as kubelet's killContainer does: its preStop hook first, bounded by the grace period (a
    /// failure is reported, never blocking); then SIGTERM, what is left of the grace (at least 2 s), SIGKILL.
    /// </summary>
    private async Task<ExitRecord> StopContainerAsync(V1Pod pod, PodState state, V1Container? container, ContainerState cs, TimeSpan grace, CancellationToken cancellationToken)
    {
        var instance = cs.Instance!;
        if (grace > TimeSpan.Zero && container?.Lifecycle?.PreStop is { } preStop && state.SandboxState is { } sandbox)
        {
            var started = _time.GetUtcNow();
            var (ok, output) = await _prober.RunHookAsync(preStop, container, sandbox.Ip, Target(pod, container, cs), grace, _time, cancellationToken);
            if (!ok)
            {
                LogHookFailed(_logger, "PreStop", state.Key, container.Name, output);
                _events.Pod(pod, container.Name, "Warning", "FailedPreStopHook", "PreStopHook failed");
            }

            var left = grace - (_time.GetUtcNow() - started);
            grace = left > MinimumStopGrace ? left : MinimumStopGrace;
        }

        return await _runtime.StopAsync(instance, grace, cancellationToken);
    }

    /// <summary>Stops every container (preStop, SIGTERM, grace, SIGKILL, all at once) and removes the sandbox.</summary>
    private async Task TerminateAsync(PodState state, V1Pod? pod, TimeSpan grace, CancellationToken cancellationToken)
    {
        var stops = new List<Task>();
        foreach (var cs in state.Containers.Values)
        {
            cs.Probes?.Dispose();
            cs.Probes = null;
            cs.Ready = false;
            if (cs.Running)
            {
                var instance = cs.Instance!;
                if (pod is null)
                {
                    stops.Add(Task.Run(async () => cs.Exit = await _runtime.StopAsync(instance, grace, cancellationToken), cancellationToken));
                    continue;
                }

                _events.Pod(pod, cs.Name, "Normal", "Killing", $"Stopping container {cs.Name}");
                var container = pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).Concat(EphemeralContainers.Of(pod)).FirstOrDefault(c => c.Name == cs.Name);
                stops.Add(Task.Run(async () => cs.Exit = await StopContainerAsync(pod, state, container, cs, grace, cancellationToken), cancellationToken));
            }
        }

        await Task.WhenAll(stops);
        if (state.Sandbox is { } sandbox)
        {
            await KillInstancesAsync(sandbox, cancellationToken);
        }

        await _sandboxes.RemoveAsync(state.Uid, cancellationToken);
        state.SandboxState = null;
    }

    /// <summary>SIGKILLs every instance of the sandbox that has no exit recorded (what a crash of the agent may have left).</summary>
    private async Task KillInstancesAsync(PodSandbox sandbox, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(sandbox.ContainersDirectory))
        {
            return;
        }

        foreach (string dir in Directory.EnumerateDirectories(sandbox.ContainersDirectory).SelectMany(Directory.EnumerateDirectories))
        {
            if (ContainerRuntime.Adopt(dir) is { } instance)
            {
                await _runtime.StopAsync(instance, TimeSpan.Zero, cancellationToken);
            }
        }
    }

    private async Task DeleteAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty,
                new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone already, or a namesake took its place.
        }
    }

    private async Task<V1PodStatus> WriteStatusAsync(V1Pod pod, PodState state, CancellationToken cancellationToken)
    {
        var status = PodStatusBuilder.Build(pod, state, _hostIp, _time.GetUtcNow().UtcDateTime, state.Written?.Status);
        if (state.SandboxError is { } error && state.SandboxState is null)
        {
            foreach (var cs in status.ContainerStatuses)
            {
                cs.State.Waiting ??= new V1ContainerStateWaiting { Reason = "ContainerCreating" };
            }

            status.Message = error;
        }

        string json = KubernetesJson.Serialize(status);

        // The node lifecycle controller marks the pods of a node that stopped reporting not ready: once back, the
        // node writes its own view again even though it has not changed since it last wrote it.
        if (json == state.Written?.Json && ReadyOf(pod.Status) == ReadyOf(status))
        {
            return status;
        }

        string patch = $"{{\"metadata\":{{\"uid\":\"{pod.Metadata.Uid}\"}},\"status\":{json}}}";
        await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        state.Written = (status, json);
        return status;
    }

    private static string? ReadyOf(V1PodStatus? status) => status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status;

    /// <summary>Kubelet's ShouldContainerBeRestarted; an init container that succeeded is done, one that failed restarts unless the policy is Never.</summary>
    private static bool ShouldRestart(V1Pod pod, int exitCode, bool init) => (pod.Spec.RestartPolicy ?? "Always") switch
    {
        "Never" => false,
        "OnFailure" => exitCode != 0,
        _ => !init || exitCode != 0,
    };

    private static bool IsInit(V1Pod pod, V1Container container) => pod.Spec.InitContainers?.Contains(container) == true;

    private static ExecTarget Target(V1Pod pod, V1Container container, ContainerState cs)
    {
        var user = RunAs.Of(pod, container);
        return new ExecTarget(cs.Instance!.Pid, user.User, user.Group, user.Groups);
    }

    /// <summary>A volume cannot be set up: kubelet's FailedMount event; the containers keep waiting and the sync is retried.</summary>
    private async Task MountFailedAsync(V1Pod pod, PodState state, VolumeException e, CancellationToken cancellationToken)
    {
        _events.Pod(pod, null, "Warning", "FailedMount", $"MountVolume.SetUp failed for volume \"{e.Volume}\" : {e.Message}");
        LogMountFailed(_logger, state.Key, e.Volume, e.Message);
        await WriteStatusAsync(pod, state, cancellationToken);
        Queue.AddAfter(state.Key, MountRetry);
    }

    private Dictionary<string, string> ServiceEnvFor(V1Pod pod)
    {
        var services = new List<V1Service>();
        if (pod.Spec.EnableServiceLinks != false)
        {
            services.AddRange(_services.Cache.InNamespace(pod.Metadata.NamespaceProperty));
        }

        if (_services.Cache.Get("default", "kubernetes") is { } kubernetes && pod.Metadata.NamespaceProperty != "default")
        {
            services.Add(kubernetes);
        }

        return ServiceEnv.Build(services);
    }

    /// <summary>Go's time.Duration text for whole seconds: 10s, 1m20s, 5m0s.</summary>
    internal static string GoDuration(TimeSpan duration) =>
        duration.TotalMinutes >= 1 ? $"{(int)duration.TotalMinutes}m{duration.Seconds}s" : $"{(int)duration.TotalSeconds}s";

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Removing what is left of pod uid {Uid}, no longer bound to this node")]
    private static partial void LogOrphan(ILogger logger, string uid);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Adopted container {Pod}/{Container}, pid {Pid}")]
    private static partial void LogAdopted(ILogger logger, string pod, string container, int pid);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Sandbox of pod {Pod} failed: {Error}")]
    private static partial void LogSandboxFailed(ILogger logger, string pod, string error);

    [LoggerMessage(EventId = 5020, Level = LogLevel.Warning, Message = "Volume {Volume} of pod {Pod} not set up: {Error}")]
    private static partial void LogMountFailed(ILogger logger, string pod, string volume, string error);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Warning, Message = "{Hook} hook of {Pod}/{Container} failed: {Output}")]
    private static partial void LogHookFailed(ILogger logger, string hook, string pod, string container, string output);
}
