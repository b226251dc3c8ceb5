using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Scheduling;

/// <summary>
/// Binds each pod without spec.nodeName to a Ready, schedulable node (or a cordoned one whose unschedulable taint it
/// tolerates, as DaemonSet pods do) whose NoSchedule taints it tolerates and that its nodeSelector and required node
/// affinity select, choosing the node with the fewest pods of the pod's owner, then the fewest pods (spread). With no such node the pod stays Pending with PodScheduled=False, reason
/// Unschedulable, and a FailedScheduling event; a node change retries every waiting pod. As kube-scheduler, pods are
/// decided one at a time (each decision sees every earlier one) and bound in the background while the next is decided,
/// a few bindings at once: a burst of new pods flows on to the nodes at a steady pace instead of flooding the API server.
/// </summary>
internal sealed partial class Scheduler : QueueController
{
    public const string Component = "default-scheduler";

    // Bindings in flight at once (kube-scheduler binds each pod on a goroutine of its own, bounded only by the API
    // server). One at a time, a binding waits for the store's commit before the next starts. With four, a scale to 50 in
    // bench/node.sh on 2 cores left pods unbound for 242-325 ms (p50) while the node sat waiting for them; with 16, for
    // 50-63 ms, and the pods were Ready sooner. bench/controllers.sh's endpoints p99 stayed within its 100 ms target
    // (96.9 ms with 16, 103.5 ms with four, run side by side).
    private const int MaxBindsInFlight = 16;

    // Pods bound, or being bound, but not yet shown bound by the informer still count on their node, so a burst
    // spreads evenly.
    private readonly ConcurrentDictionary<string, string> _assumed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _bindSlots = new(MaxBindsInFlight);

    public Scheduler(ControllerContext context)
        : base(context, "scheduler")
    {
        var informers = context.Informers;
        informers.Pods.AddHandler(EnqueueIfUnscheduled, (_, pod) => EnqueueIfUnscheduled(pod), pod => _assumed.TryRemove(ObjectKey.Of(pod), out _));
        informers.Nodes.AddHandler(_ => RetryWaiting(), (old, node) =>
        {
            // Heartbeats change nothing that scheduling looks at.
            if (IsReady(old) != IsReady(node) || old.Spec?.Unschedulable != node.Spec?.Unschedulable || !ModelJson.SameContent(old.Spec?.Taints, node.Spec?.Taints)
                || !LabelSets.SameLabels(old.Metadata.Labels, node.Metadata.Labels))
            {
                RetryWaiting();
            }
        });
    }

    protected override int Workers => 1;

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var pod = Context.Informers.Pods.Cache.Get(key);
        if (pod is null || !NeedsScheduling(pod) || _assumed.ContainsKey(key))
        {
            return;
        }

        var nodes = Context.Informers.Nodes.Cache.List();
        var fit = nodes.Where(n => Fits(pod, n)).ToList();
        if (fit.Count == 0)
        {
            await MarkUnschedulableAsync(pod, nodes, cancellationToken);
            return;
        }

        var podsByNode = Context.Informers.Pods.Cache;
        var assumedCounts = _assumed.Values.GroupBy(n => n, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        // Pods of one owner spread first (kube-scheduler's PodTopologySpread system default, by hostname), then all pods.
        string? owner = OwnerOf(pod);
        var siblingCounts = owner is null ? [] : _assumed.Where(a => a.Key != key && Context.Informers.Pods.Cache.Get(a.Key) is { } assumed && OwnerOf(assumed) == owner)
            .GroupBy(a => a.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var node = fit
            .OrderBy(n => owner is null ? 0 : podsByNode.ByIndex(SharedInformers.NodeIndex, n.Metadata.Name).Count(p => !Objects.IsTerminal(p) && OwnerOf(p) == owner) + siblingCounts.GetValueOrDefault(n.Metadata.Name))
            .ThenBy(n => podsByNode.ByIndex(SharedInformers.NodeIndex, n.Metadata.Name).Count(p => !Objects.IsTerminal(p)) + assumedCounts.GetValueOrDefault(n.Metadata.Name))
            .ThenBy(n => n.Metadata.Name, StringComparer.Ordinal).First();
        _assumed[key] = node.Metadata.Name;
        await _bindSlots.WaitAsync(cancellationToken);
        _ = BindInBackgroundAsync(key, pod, node.Metadata.Name, cancellationToken);
    }

    /// <summary>
    /// The binding cycle, off the scheduling cycle as upstream's: the next pod is decided while this one binds. A failed
    /// binding forgets the assumption and sends the pod back to the queue with backoff.
    /// </summary>
    private async Task BindInBackgroundAsync(string key, V1Pod pod, string node, CancellationToken cancellationToken)
    {
        try
        {
            await BindAsync(pod, node, cancellationToken);
            Context.Events.Normal(pod, Component, "Scheduled", $"Successfully assigned {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} to {node}");
            Queue.Forget(key);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: a restart lists the pod again.
        }
        catch (Exception e)
        {
            _assumed.TryRemove(key, out _);
            LogBindFailed(Logger, key, node, e);
            Queue.AddRateLimited(key);
        }
        finally
        {
            _bindSlots.Release();
        }
    }

    /// <summary>
    /// Binds through pods/binding, as kube-scheduler's DefaultBinder: the API server sets spec.nodeName and
    /// PodScheduled=True at once, and the uid keeps a pod deleted and created again under the name from taking the node.
    /// </summary>
    private Task BindAsync(V1Pod pod, string node, CancellationToken cancellationToken)
    {
        var binding = new V1Binding
        {
            Metadata = new V1ObjectMeta { Name = pod.Metadata.Name, NamespaceProperty = pod.Metadata.NamespaceProperty, Uid = pod.Metadata.Uid },
            Target = new V1ObjectReference { Kind = "Node", Name = node },
        };
        return Context.Client.CoreV1.CreateNamespacedPodBindingAsync(binding, pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
    }

    private async Task MarkUnschedulableAsync(V1Pod pod, IReadOnlyList<V1Node> nodes, CancellationToken cancellationToken)
    {
        var reasons = nodes.Select(n => Misfit(pod, n)).OfType<string>().GroupBy(r => r, StringComparer.Ordinal)
            .Select(g => $"{g.Count()} node(s) {g.Key}").Order(StringComparer.Ordinal);
        string message = nodes.Count == 0
            ? "0/0 nodes are available: no nodes available to schedule pods."
            : $"0/{nodes.Count} nodes are available: {string.Join(", ", reasons)}.";
        var current = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (current is { Status: "False", Reason: "Unschedulable" } && current.Message == message)
        {
            return;
        }

        await SetScheduledConditionAsync(pod, new V1PodCondition
        {
            Type = "PodScheduled",
            Status = "False",
            Reason = "Unschedulable",
            Message = message,
            LastTransitionTime = Context.Time.GetUtcNow().UtcDateTime,
        }, cancellationToken);
        Context.Events.Warning(pod, Component, "FailedScheduling", message);
    }

    private async Task SetScheduledConditionAsync(V1Pod pod, V1PodCondition condition, CancellationToken cancellationToken)
    {
        var conditions = (pod.Status?.Conditions ?? []).Where(c => c.Type != "PodScheduled").Append(condition).ToList();
        var patch = new JsonObject { ["status"] = new JsonObject { ["conditions"] = Json.Node(conditions) } };
        await Context.Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Unbound, live, ours, and not held back by scheduling gates (upstream's binding refuses a gated pod). As
    /// kube-scheduler, a gated pod gets neither a status write nor an event here: the API server gave it
    /// PodScheduled=False, reason SchedulingGated, when it was created.
    /// </summary>
    private static bool NeedsScheduling(V1Pod pod) =>
        string.IsNullOrEmpty(pod.Spec?.NodeName) && pod.Metadata.DeletionTimestamp is null && !Objects.IsTerminal(pod)
        && (pod.Spec?.SchedulerName is null or "" or Component) && pod.Spec?.SchedulingGates is null or { Count: 0 };

    private static string? OwnerOf(V1Pod pod) => pod.Metadata.OwnerReferences?.FirstOrDefault(r => r.Controller == true)?.Uid;

    private static bool IsReady(V1Node node) => node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private static bool Fits(V1Pod pod, V1Node node) => Misfit(pod, node) is null;

    /// <summary>Why the pod cannot go to the node, in the words of upstream's FailedScheduling message; null when it can.</summary>
    private static string? Misfit(V1Pod pod, V1Node node)
    {
        if (!IsReady(node))
        {
            return "were not ready";
        }

        if (node.Spec?.Unschedulable == true && Tolerations.Misfit(pod.Spec, node) is { } cordoned)
        {
            return cordoned;
        }

        if (!NodeAffinity.Matches(pod, node))
        {
            return "didn't match Pod's node affinity/selector";
        }

        return Tolerations.Misfit(pod.Spec, node);
    }

    private void EnqueueIfUnscheduled(V1Pod pod)
    {
        string key = ObjectKey.Of(pod);
        if (NeedsScheduling(pod))
        {
            Queue.Add(key);
        }
        else
        {
            _assumed.TryRemove(key, out _);
        }
    }

    private void RetryWaiting()
    {
        foreach (var pod in Context.Informers.Pods.Cache.List().Where(NeedsScheduling))
        {
            Queue.Add(ObjectKey.Of(pod));
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Binding {Pod} to {Node} failed; the pod goes back to the queue")]
    private static partial void LogBindFailed(ILogger logger, string pod, string node, Exception error);
}
