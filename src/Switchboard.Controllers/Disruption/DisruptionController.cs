using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Pods;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Disruption;

/// <summary>
/// kube-controller-manager's disruption controller: keeps each PodDisruptionBudget's status true to the pods its
/// selector covers. expectedPods and desiredHealthy come from minAvailable (a count: the pods there are; a percentage:
/// of the owners' scale) or maxUnavailable (of the owners' scale: a ReplicaSet's, or its Deployment's, or a
/// StatefulSet's); currentHealthy counts Ready pods not being deleted and not evicted within the last two minutes
/// (disruptedPods, written by the eviction subresource); disruptionsAllowed is what is left above desiredHealthy.
/// When the scale cannot be known (a pod without an owner) nothing is allowed, with the reason in the condition.
/// </summary>
internal sealed class DisruptionController : QueueController
{
    /// <summary>Upstream records the disruption controller's events as the controller manager.</summary>
    public const string Component = "controllermanager";

    /// <summary>How long an eviction's pod may take to be deleted before the budget counts it again (DeletionTimeout).</summary>
    private static readonly TimeSpan DeletionTimeout = TimeSpan.FromMinutes(2);

    public DisruptionController(ControllerContext context)
        : base(context, "disruption")
    {
        var informers = context.Informers;
        informers.DisruptionBudgets.AddHandler(Enqueue, (_, pdb) => Enqueue(pdb), Enqueue);
        informers.Pods.AddHandler(EnqueueCovering, (old, pod) =>
        {
            EnqueueCovering(old);
            EnqueueCovering(pod);
        }, EnqueueCovering);
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var cached = Context.Informers.DisruptionBudgets.Cache.Get(key);
        if (cached is null || cached.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        // The cache's object is shared: the status is written on a copy.
        var pdb = ModelJson.Clone(cached);

        string ns = pdb.Metadata.NamespaceProperty;
        var pods = Context.Informers.Pods.Cache.InNamespace(ns).Where(p => DisruptionBudgets.Covers(pdb, p)).ToList();
        if (pods.Count == 0)
        {
            Context.Events.Normal(pdb, Component, "NoPods", "No matching pods found");
        }

        var now = Context.Time.GetUtcNow().UtcDateTime;
        var status = new V1PodDisruptionBudgetStatus { ObservedGeneration = pdb.Metadata.Generation, Conditions = pdb.Status?.Conditions };
        string? failure = null;
        try
        {
            var (expected, desired) = await ExpectedAsync(pdb, pods, cancellationToken);
            var (disrupted, recheck) = Disrupted(pdb, pods, now);
            int healthy = pods.Count(p => p.Metadata.DeletionTimestamp is null && DisruptionBudgets.IsReady(p) && !disrupted.ContainsKey(p.Metadata.Name));
            status.ExpectedPods = expected;
            status.DesiredHealthy = desired;
            status.CurrentHealthy = healthy;
            status.DisruptionsAllowed = Math.Max(0, healthy - desired);
            status.DisruptedPods = disrupted.Count == 0 ? null : disrupted;
            DisruptionBudgets.SetDisruptionAllowed(status, status.ObservedGeneration, now);
            if (recheck is { } at)
            {
                Queue.AddAfter(key, at - now);
            }
        }
        catch (ScaleUnknownException e)
        {
            // failSafe: nothing may be disrupted while the budget cannot be worked out.
            failure = e.Message;
            Context.Events.Warning(pdb, Component, "CalculateExpectedPodCountFailed", "Failed to calculate the number of expected pods: " + e.Message);
            status = pdb.Status ?? new V1PodDisruptionBudgetStatus();
            status.DisruptionsAllowed = 0;
            DisruptionBudgets.SetCondition(status, "False", "SyncFailed", e.Message, status.ObservedGeneration, now);
        }

        if (ModelJson.SameContent(Normalize(status), Normalize(pdb.Status)))
        {
            return;
        }

        pdb.Status = status;
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.PolicyV1.ReplaceNamespacedPodDisruptionBudgetStatusAsync(pdb, pdb.Metadata.Name, ns, cancellationToken: cancellationToken));
        if (failure is not null)
        {
            // As upstream, a failed sync is tried again with backoff: the owners may appear.
            throw new InvalidOperationException(failure);
        }
    }

    /// <summary>getExpectedPodCount: (expectedPods, desiredHealthy) from the budget's numbers and, where they need it, the owners' scale.</summary>
    private async Task<(int Expected, int Desired)> ExpectedAsync(V1PodDisruptionBudget pdb, List<V1Pod> pods, CancellationToken cancellationToken)
    {
        if (pdb.Spec?.MaxUnavailable is { } maxUnavailable)
        {
            int expected = await ScaleAsync(pods, cancellationToken);
            return (expected, Math.Max(0, expected - Scaled(maxUnavailable, expected)));
        }

        if (pdb.Spec?.MinAvailable is { } minAvailable)
        {
            if (!minAvailable.Value.EndsWith('%'))
            {
                return (pods.Count, Scaled(minAvailable, pods.Count));
            }

            int expected = await ScaleAsync(pods, cancellationToken);
            return (expected, Scaled(minAvailable, expected));
        }

        return (0, 0);
    }

    /// <summary>intstr.GetScaledValueFromIntOrPercent rounding up: a count as it is, a percentage of <paramref name="total"/>.</summary>
    private static int Scaled(IntOrString value, int total) =>
        value.Value.EndsWith('%')
            ? (int)Math.Ceiling(int.Parse(value.Value.AsSpan(0, value.Value.Length - 1), CultureInfo.InvariantCulture) * total / 100.0)
            : int.Parse(value.Value, CultureInfo.InvariantCulture);

    /// <summary>getExpectedScale: the sum of the replicas of the distinct controllers of the pods.</summary>
    private async Task<int> ScaleAsync(List<V1Pod> pods, CancellationToken cancellationToken)
    {
        var scales = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            var owner = Objects.ControllerOf(pod) ?? throw new ScaleUnknownException($"found no controller ref for pod \"{pod.Metadata.Name}\"");
            if (scales.ContainsKey(owner.Uid))
            {
                continue;
            }

            var (uid, replicas) = await OwnerScaleAsync(pod.Metadata.NamespaceProperty, owner, cancellationToken)
                ?? throw new ScaleUnknownException($"found no controllers for pod \"{pod.Metadata.Name}\"");
            scales[owner.Uid] = 0;
            scales[uid] = replicas;
        }

        return scales.Values.Sum();
    }

    /// <summary>The controller whose scale counts and its replicas: a ReplicaSet's Deployment if it has one, else the ReplicaSet; a StatefulSet's /scale.</summary>
    private async Task<(string Uid, int Replicas)?> OwnerScaleAsync(string ns, V1OwnerReference owner, CancellationToken cancellationToken)
    {
        var informers = Context.Informers;
        switch (owner.Kind, owner.ApiVersion)
        {
            case ("ReplicaSet", "apps/v1"):
                var rs = informers.ReplicaSets.Cache.Get(ns, owner.Name);
                if (rs is null || rs.Metadata.Uid != owner.Uid)
                {
                    return null;
                }

                if (Objects.ControllerOf(rs) is { Kind: "Deployment", ApiVersion: "apps/v1" } deploymentRef
                    && informers.Deployments.Cache.Get(ns, deploymentRef.Name) is { } deployment && deployment.Metadata.Uid == deploymentRef.Uid)
                {
                    return (deployment.Metadata.Uid, deployment.Spec?.Replicas ?? 1);
                }

                return (rs.Metadata.Uid, rs.Spec?.Replicas ?? 1);
            case ("StatefulSet", "apps/v1"):
                var scale = await ReadScaleAsync(() => Context.Client.AppsV1.ReadNamespacedStatefulSetScaleAsync(owner.Name, ns, cancellationToken: cancellationToken));
                return scale is not null && scale.Metadata.Uid == owner.Uid ? (owner.Uid, scale.Spec?.Replicas ?? 0) : null;
            default:
                return null;
        }
    }

    private static async Task<V1Scale?> ReadScaleAsync(Func<Task<V1Scale>> read)
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// buildDisruptedPodMap: the evicted pods still expected to go (not gone, not being deleted, evicted less than two
    /// minutes ago) and when the first of them expires, for a look again then.
    /// </summary>
    private static (Dictionary<string, DateTime?> Pods, DateTime? Recheck) Disrupted(V1PodDisruptionBudget pdb, List<V1Pod> pods, DateTime now)
    {
        var kept = new Dictionary<string, DateTime?>(StringComparer.Ordinal);
        DateTime? recheck = null;
        var recorded = pdb.Status?.DisruptedPods ?? new Dictionary<string, DateTime?>();
        foreach (var pod in pods.Where(p => p.Metadata.DeletionTimestamp is null))
        {
            if (!recorded.TryGetValue(pod.Metadata.Name, out var at) || at is not { } evicted)
            {
                continue;
            }

            var expires = DateTime.SpecifyKind(evicted, DateTimeKind.Utc) + DeletionTimeout;
            if (expires < now)
            {
                continue;
            }

            kept[pod.Metadata.Name] = evicted;
            recheck = recheck is { } earlier && earlier < expires ? earlier : expires;
        }

        return (kept, recheck);
    }

    /// <summary>Zero counts and an empty map are omitted on the wire; compare them as such.</summary>
    private static V1PodDisruptionBudgetStatus Normalize(V1PodDisruptionBudgetStatus? status) => new()
    {
        CurrentHealthy = status?.CurrentHealthy ?? 0,
        DesiredHealthy = status?.DesiredHealthy ?? 0,
        ExpectedPods = status?.ExpectedPods ?? 0,
        DisruptionsAllowed = status?.DisruptionsAllowed ?? 0,
        ObservedGeneration = status?.ObservedGeneration ?? 0,
        DisruptedPods = status?.DisruptedPods is { Count: > 0 } disrupted ? disrupted : null,
        Conditions = status?.Conditions?.Select(c => new V1Condition { Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message ?? "" }).ToList(),
    };

    private void Enqueue(V1PodDisruptionBudget pdb) => Queue.Add(ObjectKey.Of(pdb));

    private void EnqueueCovering(V1Pod pod)
    {
        foreach (var pdb in Context.Informers.DisruptionBudgets.Cache.InNamespace(pod.Metadata.NamespaceProperty).Where(b => DisruptionBudgets.Covers(b, pod)))
        {
            Enqueue(pdb);
        }
    }

    /// <summary>The owners' scale cannot be known: the budget allows nothing until it can.</summary>
    private sealed class ScaleUnknownException(string message) : Exception(message);
}
