using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Controllers.Shared;

namespace Switchboard.Controllers.Nodes;

/// <summary>
/// kube-controller-manager's node lifecycle controller with its taint-based eviction: each node is looked at every
/// <see cref="ControllerOptions.NodeMonitorPeriod"/>. A node whose Lease (kube-node-lease/NAME, from the Lease informer, not
/// a GET per node and look) and Ready heartbeat have
/// not changed for <see cref="ControllerOptions.NodeMonitorGracePeriod"/> — timed by this controller's clock when it
/// saw them change, never by the node's — gets Ready (and its pressure conditions) Unknown, "Kubelet stopped posting
/// node status.", and its pods Ready=False at once, so their endpoints leave every Service. A node not Ready is tainted
/// <c>node.kubernetes.io/unreachable</c> (Unknown) or <c>node.kubernetes.io/not-ready</c> (False), NoSchedule and
/// NoExecute; a Ready one loses those taints. A pod on a node with NoExecute taints is deleted once it outlives its
/// toleration of them (at once without one; the API server gives every pod 300 s by default), as the taint eviction
/// manager does: its ReplicaSet replaces it elsewhere, and the pod stays Terminating until its node confirms.
/// </summary>
internal sealed partial class NodeLifecycleController : QueueController
{
    public const string UnreachableTaint = "node.kubernetes.io/unreachable";
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";
    private const int NotReadyWrites = 16;
    private static readonly string[] ConditionsMadeUnknown = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

    private readonly ConcurrentDictionary<string, Health> _health = new(StringComparer.Ordinal);

    public NodeLifecycleController(ControllerContext context)
        : base(context, "nodelifecycle") =>
        context.Informers.Nodes.AddHandler(n => Queue.Add(n.Metadata.Name), (_, n) => Queue.Add(n.Metadata.Name), n => Queue.Add(n.Metadata.Name));

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var node = Context.Informers.Nodes.Cache.Get(key);
        if (node is null)
        {
            _health.TryRemove(key, out _);
            return;
        }

        try
        {
            await LookAsync(key, node, cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // The node wrote its status meanwhile: look again at what it wrote.
            Queue.Add(key);
        }
    }

    private async Task LookAsync(string key, V1Node node, CancellationToken cancellationToken)
    {
        var now = Context.Time.GetUtcNow();
        var lease = Context.Informers.NodeLeases.Cache.Get(SharedInformers.NodeLeaseNamespace, key);
        var ready = Condition(node, "Ready");
        var seen = new Health(lease?.Spec?.RenewTime, ready?.LastHeartbeatTime, now);
        var health = _health.AddOrUpdate(key, seen, (_, old) => old.RenewTime == seen.RenewTime && old.Heartbeat == seen.Heartbeat ? old : seen);
        if (now - health.ObservedAt > Context.Options.NodeMonitorGracePeriod && ready?.Status != "Unknown")
        {
            node = await MarkUnknownAsync(node, ready is null, now, cancellationToken) ?? node;
            ready = Condition(node, "Ready");
            LogUnknown(Logger, key, Context.Options.NodeMonitorGracePeriod.TotalSeconds);
            Context.Events.Normal(node, "node-controller", "NodeNotReady", $"Node {key} status is now: NodeNotReady");
        }

        var pods = Context.Informers.Pods.Cache.ByIndex(SharedInformers.NodeIndex, key).Where(p => !Objects.IsTerminal(p)).ToList();
        if (ready is not null && ready.Status != "True")
        {
            await MarkPodsNotReadyAsync(pods, now, cancellationToken);
        }

        string? problem = ready?.Status switch
        {
            "Unknown" => UnreachableTaint,
            "False" => NotReadyTaint,
            _ => null,
        };
        var taints = await SetTaintsAsync(node, problem, now, cancellationToken);
        var nextEviction = await EvictAsync(pods, taints, now, cancellationToken);
        var next = Context.Options.NodeMonitorPeriod;
        Queue.AddAfter(key, nextEviction is { } due && due < next ? due : next);
    }

    private static V1NodeCondition? Condition(V1Node node, string type) => node.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    /// <summary>Upstream's tryUpdateNodeHealth past the grace period: every condition the kubelet posts goes Unknown.</summary>
    private async Task<V1Node?> MarkUnknownAsync(V1Node node, bool neverReported, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var conditions = (node.Status?.Conditions ?? []).Where(c => !ConditionsMadeUnknown.Contains(c.Type)).ToList();
        foreach (string type in ConditionsMadeUnknown)
        {
            conditions.Add(new V1NodeCondition
            {
                Type = type,
                Status = "Unknown",
                Reason = neverReported ? "NodeStatusNeverUpdated" : "NodeStatusUnknown",
                Message = neverReported ? "Kubelet never posted node status." : "Kubelet stopped posting node status.",
                LastHeartbeatTime = Condition(node, type)?.LastHeartbeatTime ?? node.Metadata.CreationTimestamp,
                LastTransitionTime = now.UtcDateTime,
            });
        }

        // The list goes whole (other conditions the node posts kept); the resourceVersion makes a heartbeat written
        // meanwhile a conflict, and the next look sees that heartbeat.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = node.Metadata.ResourceVersion },
            ["status"] = new JsonObject { ["conditions"] = Json.Node(conditions) },
        };
        return await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.CoreV1.PatchNodeStatusAsync(
            new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), node.Metadata.Name, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Upstream's MarkPodsNotReady: the Ready condition of each pod still saying True becomes False. The writes go
    /// <see cref="NotReadyWrites"/> at a time: one by one, a node's 200 pods took 66 s on a loaded machine (bench/nodes.sh),
    /// and every second of it left endpoints on a dead node.
    /// </summary>
    private async Task MarkPodsNotReadyAsync(IEnumerable<V1Pod> pods, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ready = pods.Where(p => p.Status?.Conditions?.Any(c => c is { Type: "Ready", Status: "True" }) == true);
        await Parallel.ForEachAsync(ready, new ParallelOptions { MaxDegreeOfParallelism = NotReadyWrites, CancellationToken = cancellationToken }, async (pod, token) =>
        {
            var conditions = pod.Status.Conditions.Select(c => c.Type == "Ready"
                ? new V1PodCondition { Type = "Ready", Status = "False", LastProbeTime = c.LastProbeTime, LastTransitionTime = now.UtcDateTime, Reason = c.Reason, Message = c.Message }
                : c).ToList();
            var patch = new JsonObject { ["metadata"] = new JsonObject { ["uid"] = pod.Metadata.Uid }, ["status"] = new JsonObject { ["conditions"] = Json.Node(conditions) } };
            await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.CoreV1.PatchNamespacedPodStatusAsync(
                new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: token));
            LogPodNotReady(Logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Spec.NodeName);
        });
    }

    /// <summary>The node's problem taints (NoSchedule and NoExecute) made to match <paramref name="problem"/>, other taints kept; returns the node's taints.</summary>
    private async Task<IList<V1Taint>> SetTaintsAsync(V1Node node, string? problem, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = node.Spec?.Taints ?? [];
        bool IsProblem(V1Taint t) => t.Key is UnreachableTaint or NotReadyTaint;
        var wanted = current.Where(t => !IsProblem(t) || (t.Key == problem && t.Effect is "NoSchedule" or "NoExecute")).ToList();
        foreach (string effect in (string[])["NoSchedule", "NoExecute"])
        {
            if (problem is not null && !wanted.Any(t => t.Key == problem && t.Effect == effect))
            {
                wanted.Add(new V1Taint { Key = problem, Effect = effect, TimeAdded = effect == "NoExecute" ? now.UtcDateTime : null });
            }
        }

        if (wanted.Count == current.Count && wanted.All(current.Contains))
        {
            return current;
        }

        // A merge patch replaces the list whole; the resourceVersion makes a taint someone added meanwhile a conflict, retried.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = node.Metadata.ResourceVersion },
            ["spec"] = new JsonObject { ["taints"] = Json.Node(wanted) },
        };
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.CoreV1.PatchNodeAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), node.Metadata.Name, cancellationToken: cancellationToken));
        LogTaints(Logger, node.Metadata.Name, problem ?? "none");
        return wanted;
    }

    /// <summary>
    /// The taint eviction manager for one node: deletes each pod whose tolerations of the node's NoExecute taints have
    /// run out; returns how long until the next one does (null: none will).
    /// </summary>
    private async Task<TimeSpan?> EvictAsync(IEnumerable<V1Pod> pods, IList<V1Taint> taints, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var noExecute = taints.Where(t => t.Effect == "NoExecute").ToList();
        if (noExecute.Count == 0)
        {
            return null;
        }

        TimeSpan? next = null;
        foreach (var pod in pods.Where(p => p.Metadata.DeletionTimestamp is null))
        {
            var due = EvictionTime(pod, noExecute, now);
            if (due is null)
            {
                continue;
            }

            if (due > now)
            {
                next = next is { } soonest && soonest < due.Value - now ? soonest : due.Value - now;
                continue;
            }

            await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty,
                new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken));
            Context.Events.Normal(pod, "taint-eviction-controller", "TaintManagerEviction", $"Marking for deletion Pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}");
            LogEvicted(Logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Spec.NodeName);
        }

        return next;
    }

    /// <summary>
    /// When the pod must go: now if a taint is not tolerated, never if every toleration is without seconds, else the
    /// earliest taint's timeAdded plus the smallest tolerationSeconds of the tolerations that match it.
    /// </summary>
    private static DateTimeOffset? EvictionTime(V1Pod pod, IEnumerable<V1Taint> taints, DateTimeOffset now)
    {
        DateTimeOffset? due = null;
        foreach (var taint in taints)
        {
            var matching = (pod.Spec?.Tolerations ?? []).Where(t => Tolerates(t, taint)).ToList();
            if (matching.Count == 0)
            {
                return DateTimeOffset.MinValue;
            }

            if (matching.Any(t => t.TolerationSeconds is null))
            {
                continue;
            }

            var added = taint.TimeAdded is { } time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : now;
            var at = added + TimeSpan.FromSeconds(Math.Max(0, matching.Min(t => t.TolerationSeconds!.Value)));
            due = due is { } earlier && earlier < at ? earlier : at;
        }

        return due;
    }

    private static bool Tolerates(V1Toleration toleration, V1Taint taint) =>
        (string.IsNullOrEmpty(toleration.Effect) || toleration.Effect == taint.Effect)
        && (string.IsNullOrEmpty(toleration.Key) ? toleration.OperatorProperty == "Exists" : toleration.Key == taint.Key)
        && (toleration.OperatorProperty == "Exists" || toleration.Value == taint.Value);

    /// <summary>What the node last reported and when this controller saw it change.</summary>
    private sealed record Health(DateTime? RenewTime, DateTime? Heartbeat, DateTimeOffset ObservedAt);

    [LoggerMessage(EventId = 2062, Level = LogLevel.Warning, Message = "Node {Node} posted no status for {Grace} s: Ready=Unknown")]
    private static partial void LogUnknown(ILogger logger, string node, double grace);

    [LoggerMessage(EventId = 2063, Level = LogLevel.Information, Message = "Pod {Namespace}/{Pod} on node {Node} marked not ready")]
    private static partial void LogPodNotReady(ILogger logger, string @namespace, string pod, string node);

    [LoggerMessage(EventId = 2064, Level = LogLevel.Information, Message = "Node {Node}: problem taint now {Taint}")]
    private static partial void LogTaints(ILogger logger, string node, string taint);

    [LoggerMessage(EventId = 2065, Level = LogLevel.Information, Message = "Evicting pod {Namespace}/{Pod} from node {Node}: its toleration of the node's NoExecute taints ran out")]
    private static partial void LogEvicted(ILogger logger, string @namespace, string pod, string node);
}
