using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Selectors;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// Rolls a Deployment out through ReplicaSets: one ReplicaSet per template (<c>&lt;deployment&gt;-&lt;hash&gt;</c>),
/// scaled up and the old ones down within maxSurge/maxUnavailable (or all old first for Recreate), revisions in
/// annotations for <c>kubectl rollout</c>, old ReplicaSets kept to revisionHistoryLimit, and the status and
/// conditions (Available, Progressing) that <c>kubectl get deploy</c> and <c>kubectl rollout status</c> read.
/// </summary>
internal sealed class DeploymentController : QueueController
{
    public const string Component = "deployment-controller";

    public DeploymentController(ControllerContext context)
        : base(context, "deployment")
    {
        var informers = context.Informers;
        informers.Deployments.AddHandler(d => Queue.Add(ObjectKey.Of(d)), (_, d) => Queue.Add(ObjectKey.Of(d)), d => Queue.Add(ObjectKey.Of(d)));
        informers.ReplicaSets.AddHandler(EnqueueOwner, (old, rs) =>
        {
            EnqueueOwner(rs);
            if (Objects.ControllerOf(old)?.Uid != Objects.ControllerOf(rs)?.Uid)
            {
                EnqueueOwner(old);
            }
        }, EnqueueOwner);
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var d = Context.Informers.Deployments.Cache.Get(key);
        if (d is null || d.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        var owned = await ClaimReplicaSetsAsync(d, cancellationToken);
        var newRs = owned.FirstOrDefault(rs => PodTemplateHash.SameTemplate(rs.Spec.Template, d.Spec.Template));
        var old = owned.Where(rs => rs != newRs).ToList();
        if (d.Spec.Paused == true || IsScalingEvent(d, owned))
        {
            // upstream sync(): apply a new replica count to what exists (proportionally mid-rollout), no rollout step.
            (newRs, old) = await ScaleProportionallyAsync(d, newRs, old, cancellationToken);
            if (d.Spec.Paused == true)
            {
                old = await CleanupAsync(d, old, cancellationToken);
            }

            await SyncStatusAsync(d, newRs, old, createdNew: false, cancellationToken);
            return;
        }

        bool createdNew = false;
        long maxOldRevision = old.Count == 0 ? 0 : old.Max(Revisions.Of);
        if (newRs is null)
        {
            newRs = await CreateReplicaSetAsync(d, old, maxOldRevision + 1, cancellationToken);
            if (newRs is null)
            {
                return;
            }

            createdNew = true;
        }
        else if (Revisions.Of(newRs) <= maxOldRevision)
        {
            // An old template is current again (rollout undo): it becomes the newest revision.
            newRs = await PatchReplicaSetAsync(newRs, new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [Revisions.RevisionAnnotation] = Revisions.Text(maxOldRevision + 1) } } }, cancellationToken);
        }

        bool recreate = d.Spec.Strategy?.Type == "Recreate";
        (newRs, old) = recreate
            ? await RecreateAsync(d, newRs, old, cancellationToken)
            : await RollAsync(d, newRs, old, cancellationToken);
        old = await CleanupAsync(d, old, cancellationToken);
        await SyncStatusAsync(d, newRs, old, createdNew, cancellationToken);
    }

    /// <summary>
    /// The ReplicaSets the deployment controls, after adopting orphans its selector matches and releasing those it no
    /// longer matches (upstream's ControllerRefManager).
    /// </summary>
    private async Task<List<V1ReplicaSet>> ClaimReplicaSetsAsync(V1Deployment d, CancellationToken cancellationToken)
    {
        var cache = Context.Informers.ReplicaSets.Cache;
        var candidates = cache.InNamespace(d.Metadata.NamespaceProperty)
            .Where(rs => Objects.IsControlledBy(rs, d) || LabelSelector.MatchesNonEmpty(d.Spec.Selector, rs.Metadata.Labels));
        var claimed = await ControllerRefManager.ClaimAsync(
            d, "apps/v1", "Deployment", d.Spec.Selector, candidates,
            async ct => (IKubernetesObject<V1ObjectMeta>)await Context.Client.AppsV1.ReadNamespacedDeploymentAsync(d.Metadata.Name, d.Metadata.NamespaceProperty, cancellationToken: ct),
            (rs, patch, ct) => PatchReplicaSetAsync(rs, patch, ct),
            cancellationToken);
        return [.. claimed.OrderBy(rs => rs.Metadata.CreationTimestamp).ThenBy(rs => rs.Metadata.Name, StringComparer.Ordinal)];
    }

    /// <summary>upstream isScalingEvent: an active ReplicaSet was last sized for a different deployment replica count.</summary>
    private static bool IsScalingEvent(V1Deployment d, List<V1ReplicaSet> owned)
    {
        int desired = d.Spec.Replicas ?? 1;
        return owned.Where(rs => (rs.Spec.Replicas ?? 0) > 0).Any(rs => Revisions.DesiredReplicas(rs) is { } was && was != desired);
    }

    /// <summary>
    /// upstream scale(): one active ReplicaSet (or none) takes the new count; a saturated new ReplicaSet retires the
    /// old ones; otherwise, mid-rollout, the difference to replicas+maxSurge is spread over the active ReplicaSets in
    /// proportion to their size, leftovers to the largest.
    /// </summary>
    private async Task<(V1ReplicaSet? New, List<V1ReplicaSet> Old)> ScaleProportionallyAsync(V1Deployment d, V1ReplicaSet? newRs, List<V1ReplicaSet> old, CancellationToken cancellationToken)
    {
        int desired = d.Spec.Replicas ?? 1;
        List<V1ReplicaSet> all = newRs is null ? [.. old] : [newRs, .. old];
        var active = all.Where(rs => (rs.Spec.Replicas ?? 0) > 0).ToList();
        var sizes = all.ToDictionary(rs => rs.Metadata.Name, rs => rs.Spec.Replicas ?? 0, StringComparer.Ordinal);
        if (active.Count <= 1)
        {
            var target = active.Count == 1 ? active[0] : newRs ?? old.LastOrDefault();
            if (target is not null)
            {
                sizes[target.Metadata.Name] = desired;
            }
        }
        else if (newRs is not null && Revisions.DesiredReplicas(newRs) == desired && newRs.Spec.Replicas == desired && newRs.Status?.AvailableReplicas == desired)
        {
            foreach (var rs in old)
            {
                sizes[rs.Metadata.Name] = 0;
            }
        }
        else if (d.Spec.Strategy?.Type != "Recreate")
        {
            var (surge, _) = RolloutLimits.Of(d);
            int allowed = desired > 0 ? desired + surge : 0;
            int toAdd = allowed - active.Sum(rs => rs.Spec.Replicas ?? 0);
            int added = 0;
            var order = (toAdd > 0
                ? active.OrderByDescending(rs => rs.Spec.Replicas ?? 0).ThenByDescending(rs => rs.Metadata.CreationTimestamp)
                : active.OrderByDescending(rs => rs.Spec.Replicas ?? 0).ThenBy(rs => rs.Metadata.CreationTimestamp)).ToList();
            foreach (var rs in order.Where(_ => toAdd != 0))
            {
                int proportion = Proportion(d, rs, toAdd, added);
                sizes[rs.Metadata.Name] += proportion;
                added += proportion;
            }

            if (toAdd != 0 && order.Count > 0)
            {
                sizes[order[0].Metadata.Name] = Math.Max(0, sizes[order[0].Metadata.Name] + toAdd - added);
            }
        }

        var scaled = new Dictionary<string, V1ReplicaSet>(StringComparer.Ordinal);
        foreach (var rs in all)
        {
            bool touch = active.Contains(rs) || sizes[rs.Metadata.Name] != (rs.Spec.Replicas ?? 0);
            scaled[rs.Metadata.Name] = touch ? await ScaleAsync(d, rs, sizes[rs.Metadata.Name], cancellationToken) : rs;
        }

        return (newRs is null ? null : scaled[newRs.Metadata.Name], [.. old.Select(rs => scaled[rs.Metadata.Name])]);
    }

    /// <summary>upstream GetProportion: the ReplicaSet's share of a resize, from the max-replicas it was sized for.</summary>
    private static int Proportion(V1Deployment d, V1ReplicaSet rs, int toAdd, int added)
    {
        int replicas = rs.Spec.Replicas ?? 0;
        if (replicas == 0 || toAdd == 0 || toAdd == added)
        {
            return 0;
        }

        int desired = d.Spec.Replicas ?? 1;
        int fraction;
        if (desired == 0)
        {
            fraction = -replicas;
        }
        else
        {
            var (surge, _) = RolloutLimits.Of(d);
            int before = Revisions.MaxReplicas(rs) is { } max and > 0 ? max : d.Status?.Replicas ?? 0;
            fraction = before == 0 ? 0 : (int)Math.Round((double)replicas * (desired + surge) / before, MidpointRounding.AwayFromZero) - replicas;
        }

        int allowedChange = toAdd - added;
        return toAdd > 0 ? Math.Min(fraction, allowedChange) : Math.Max(fraction, allowedChange);
    }

    private async Task<V1ReplicaSet?> CreateReplicaSetAsync(V1Deployment d, List<V1ReplicaSet> old, long revision, CancellationToken cancellationToken)
    {
        int desired = d.Spec.Replicas ?? 1;
        var (surge, _) = RolloutLimits.Of(d);
        int replicas;
        if (d.Spec.Strategy?.Type == "Recreate")
        {
            replicas = 0;
        }
        else if (old.Sum(rs => rs.Spec.Replicas ?? 0) == 0)
        {
            replicas = desired;
        }
        else
        {
            replicas = Math.Clamp(desired + surge - old.Sum(rs => rs.Spec.Replicas ?? 0), 0, desired);
        }

        string hash = PodTemplateHash.Of(d.Spec.Template, d.Status?.CollisionCount);
        var template = ModelJson.Clone(d.Spec.Template);
        template.Metadata ??= new V1ObjectMeta();
        template.Metadata.Labels = new Dictionary<string, string>(template.Metadata.Labels ?? new Dictionary<string, string>()) { [PodTemplateHash.Label] = hash };
        var selector = ModelJson.Clone(d.Spec.Selector);
        selector.MatchLabels = new Dictionary<string, string>(selector.MatchLabels ?? new Dictionary<string, string>()) { [PodTemplateHash.Label] = hash };
        var annotations = new Dictionary<string, string>(d.Metadata.Annotations ?? new Dictionary<string, string>());
        annotations.Remove("kubectl.kubernetes.io/last-applied-configuration");
        annotations[Revisions.RevisionAnnotation] = Revisions.Text(revision);
        annotations[Revisions.DesiredReplicasAnnotation] = Revisions.Text(desired);
        annotations[Revisions.MaxReplicasAnnotation] = Revisions.Text(desired + surge);
        var rs = new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{d.Metadata.Name}-{hash}",
                Labels = template.Metadata.Labels,
                Annotations = annotations,
                OwnerReferences = [Objects.ControllerReference(d, "apps/v1", "Deployment")],
            },
            Spec = new V1ReplicaSetSpec { Replicas = replicas, MinReadySeconds = d.Spec.MinReadySeconds, Selector = selector, Template = template },
        };
        try
        {
            var created = await Context.Client.AppsV1.CreateNamespacedReplicaSetAsync(rs, d.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            if (replicas > 0)
            {
                Context.Events.Normal(d, Component, "ScalingReplicaSet", $"Scaled up replica set {created.Metadata.Name} from 0 to {replicas}");
            }

            return created;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            var existing = await Context.Client.AppsV1.ReadNamespacedReplicaSetAsync(rs.Metadata.Name, d.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            if (Objects.IsControlledBy(existing, d) && PodTemplateHash.SameTemplate(existing.Spec.Template, d.Spec.Template))
            {
                // Ours, created by an earlier sync the cache does not show yet.
                return existing;
            }

            // A different ReplicaSet has the name: hash again with a higher collision count.
            var patch = new JsonObject { ["status"] = new JsonObject { ["collisionCount"] = (d.Status?.CollisionCount ?? 0) + 1 } };
            await Context.Client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), d.Metadata.Name, d.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            return null;
        }
    }

    private async Task<(V1ReplicaSet New, List<V1ReplicaSet> Old)> RollAsync(V1Deployment d, V1ReplicaSet newRs, List<V1ReplicaSet> old, CancellationToken cancellationToken)
    {
        int desired = d.Spec.Replicas ?? 1;
        var (surge, unavailable) = RolloutLimits.Of(d);
        int newReplicas = newRs.Spec.Replicas ?? 0;
        if (newReplicas > desired)
        {
            return (await ScaleAsync(d, newRs, desired, cancellationToken), old);
        }

        if (newReplicas < desired)
        {
            int current = newReplicas + old.Sum(rs => rs.Spec.Replicas ?? 0);
            int room = desired + surge - current;
            if (room > 0)
            {
                // Scaled up: the old ones follow once the new pods are available.
                return (await ScaleAsync(d, newRs, newReplicas + Math.Min(room, desired - newReplicas), cancellationToken), old);
            }
        }

        int all = newReplicas + old.Sum(rs => rs.Spec.Replicas ?? 0);
        int minAvailable = desired - unavailable;
        int newUnavailable = newReplicas - (newRs.Status?.AvailableReplicas ?? 0);
        int maxScaledDown = all - minAvailable - newUnavailable;
        if (maxScaledDown <= 0)
        {
            return (newRs, old);
        }

        // First the old pods that are not available anyway, then available ones down to minAvailable.
        var result = new List<V1ReplicaSet>(old);
        int scaledDown = 0;
        for (int i = 0; i < result.Count && scaledDown < maxScaledDown; i++)
        {
            int replicas = result[i].Spec.Replicas ?? 0;
            int unhealthy = replicas - (result[i].Status?.AvailableReplicas ?? 0);
            if (replicas == 0 || unhealthy <= 0)
            {
                continue;
            }

            int count = Math.Min(maxScaledDown - scaledDown, unhealthy);
            result[i] = await ScaleAsync(d, result[i], replicas - count, cancellationToken);
            scaledDown += count;
        }

        int available = (newRs.Status?.AvailableReplicas ?? 0) + old.Sum(rs => rs.Status?.AvailableReplicas ?? 0);
        int toScaleDown = available - minAvailable;
        for (int i = 0; i < result.Count && toScaleDown > 0; i++)
        {
            int replicas = result[i].Spec.Replicas ?? 0;
            if (replicas == 0)
            {
                continue;
            }

            int count = Math.Min(replicas, toScaleDown);
            result[i] = await ScaleAsync(d, result[i], replicas - count, cancellationToken);
            toScaleDown -= count;
        }

        return (newRs, result);
    }

    private async Task<(V1ReplicaSet New, List<V1ReplicaSet> Old)> RecreateAsync(V1Deployment d, V1ReplicaSet newRs, List<V1ReplicaSet> old, CancellationToken cancellationToken)
    {
        var result = new List<V1ReplicaSet>();
        foreach (var rs in old)
        {
            result.Add((rs.Spec.Replicas ?? 0) > 0 ? await ScaleAsync(d, rs, 0, cancellationToken) : rs);
        }

        var pods = Context.Informers.Pods.Cache;
        bool oldPodsLeft = old.Any(rs => pods.ByIndex(SharedInformers.OwnerIndex, rs.Metadata.Uid).Any(p => !Objects.IsTerminal(p)));
        int desired = d.Spec.Replicas ?? 1;
        if (!oldPodsLeft && (newRs.Spec.Replicas ?? 0) != desired)
        {
            newRs = await ScaleAsync(d, newRs, desired, cancellationToken);
        }

        return (newRs, result);
    }

    /// <summary>Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit.</summary>
    private async Task<List<V1ReplicaSet>> CleanupAsync(V1Deployment d, List<V1ReplicaSet> old, CancellationToken cancellationToken)
    {
        int limit = d.Spec.RevisionHistoryLimit ?? 10;
        var idle = old.Where(rs => (rs.Spec.Replicas ?? 0) == 0 && (rs.Status?.Replicas ?? 0) == 0 && rs.Metadata.DeletionTimestamp is null)
            .OrderBy(Revisions.Of).ThenBy(rs => rs.Metadata.CreationTimestamp).ToList();
        var kept = new List<V1ReplicaSet>(old);
        foreach (var rs in idle.Take(Math.Max(0, idle.Count - limit)))
        {
            try
            {
                await Context.Client.AppsV1.DeleteNamespacedReplicaSetAsync(rs.Metadata.Name, rs.Metadata.NamespaceProperty,
                    new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = rs.Metadata.Uid } }, cancellationToken: cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                // Already gone.
            }

            kept.Remove(rs);
        }

        return kept;
    }

    private async Task<V1ReplicaSet> ScaleAsync(V1Deployment d, V1ReplicaSet rs, int replicas, CancellationToken cancellationToken)
    {
        int from = rs.Spec.Replicas ?? 0;
        var (surge, _) = RolloutLimits.Of(d);
        int desired = d.Spec.Replicas ?? 1;
        if (from == replicas && Revisions.DesiredReplicas(rs) == desired && Revisions.MaxReplicas(rs) == desired + surge)
        {
            return rs;
        }

        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["annotations"] = new JsonObject
                {
                    [Revisions.DesiredReplicasAnnotation] = Revisions.Text(desired),
                    [Revisions.MaxReplicasAnnotation] = Revisions.Text(desired + surge),
                },
            },
            ["spec"] = new JsonObject { ["replicas"] = replicas },
        };
        var scaled = await PatchReplicaSetAsync(rs, patch, cancellationToken);
        if (from != replicas)
        {
            string direction = replicas > from ? "up" : "down";
            Context.Events.Normal(d, Component, "ScalingReplicaSet", $"Scaled {direction} replica set {rs.Metadata.Name} from {from} to {replicas}");
        }

        return scaled;
    }

    private Task<V1ReplicaSet> PatchReplicaSetAsync(V1ReplicaSet rs, JsonObject patch, CancellationToken cancellationToken) =>
        Context.Client.AppsV1.PatchNamespacedReplicaSetAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), rs.Metadata.Name, rs.Metadata.NamespaceProperty, cancellationToken: cancellationToken);

    private async Task SyncStatusAsync(V1Deployment d, V1ReplicaSet? newRs, List<V1ReplicaSet> old, bool createdNew, CancellationToken cancellationToken)
    {
        var all = newRs is null ? old : [newRs, .. old];
        int desired = d.Spec.Replicas ?? 1;
        var (_, maxUnavailable) = RolloutLimits.Of(d);
        int available = all.Sum(rs => rs.Status?.AvailableReplicas ?? 0);
        int replicas = all.Sum(rs => rs.Status?.Replicas ?? 0);
        int updated = newRs?.Status?.Replicas ?? 0;
        var status = new V1DeploymentStatus
        {
            ObservedGeneration = d.Metadata.Generation,
            Replicas = replicas,
            UpdatedReplicas = updated,
            ReadyReplicas = all.Sum(rs => rs.Status?.ReadyReplicas ?? 0),
            AvailableReplicas = available,
            UnavailableReplicas = Math.Max(desired - available, 0),
            CollisionCount = d.Status?.CollisionCount,
        };

        var now = Context.Time.GetUtcNow().UtcDateTime;
        var conditions = new List<V1DeploymentCondition>
        {
            available >= desired - maxUnavailable
                ? Condition(d, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now)
                : Condition(d, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", now),
        };
        if (Progressing(d, newRs, status, createdNew, now) is { } progressing)
        {
            conditions.Add(progressing);
            if (progressing is { Status: "True", Reason: not "NewReplicaSetAvailable" } && d.Spec.ProgressDeadlineSeconds is { } deadline)
            {
                // No event marks a deadline passing: look again when it would.
                var at = (progressing.LastUpdateTime ?? now).ToUniversalTime() + TimeSpan.FromSeconds(deadline);
                Queue.AddAfter(ObjectKey.Of(d), at - now + TimeSpan.FromMilliseconds(100));
            }
        }

        status.Conditions = [.. conditions, .. (d.Status?.Conditions ?? []).Where(c => c.Type is not ("Available" or "Progressing"))];
        if (!ModelJson.SameContent(Normalize(status), Normalize(d.Status)))
        {
            var patch = new JsonObject { ["status"] = Json.Node(status) };
            await Context.Client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), d.Metadata.Name, d.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }

        if (newRs is not null && Revisions.Of(d) != Revisions.Of(newRs))
        {
            var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [Revisions.RevisionAnnotation] = Revisions.Text(Revisions.Of(newRs)) } } };
            await Context.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), d.Metadata.Name, d.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
    }

    /// <summary>
    /// The Progressing condition as upstream's syncRolloutStatus and checkPausedConditions set it: paused and resumed;
    /// a new ReplicaSet created; progress (more updated, ready or available pods, fewer old ones) renewing
    /// lastUpdateTime; complete; and ProgressDeadlineExceeded once progressDeadlineSeconds pass without progress.
    /// None when the deployment has no deadline (progressDeadlineSeconds unset or MaxInt32).
    /// </summary>
    private static V1DeploymentCondition? Progressing(V1Deployment d, V1ReplicaSet? newRs, V1DeploymentStatus status, bool createdNew, DateTime now)
    {
        var current = d.Status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
        if (d.Spec.Paused == true)
        {
            return current?.Reason == "DeploymentPaused" ? current : Condition(d, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now);
        }

        if (current?.Reason == "DeploymentPaused")
        {
            return Condition(d, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now);
        }

        if (d.Spec.ProgressDeadlineSeconds is not { } deadline || deadline == int.MaxValue)
        {
            return null;
        }

        string subject = newRs is null ? $"Deployment \"{d.Metadata.Name}\"" : $"ReplicaSet \"{newRs.Metadata.Name}\"";
        int desired = d.Spec.Replicas ?? 1;
        if (status.Replicas == status.UpdatedReplicas && current?.Reason == "NewReplicaSetAvailable")
        {
            return current;
        }

        if (status.UpdatedReplicas == desired && status.Replicas == desired && status.AvailableReplicas == desired && newRs is not null)
        {
            return Condition(d, "Progressing", "True", "NewReplicaSetAvailable", $"{subject} has successfully progressed.", now);
        }

        if (createdNew && newRs is not null)
        {
            return Condition(d, "Progressing", "True", "NewReplicaSetCreated", $"Created new replica set \"{newRs.Metadata.Name}\"", now);
        }

        var before = d.Status ?? new V1DeploymentStatus();
        bool progressed = (status.UpdatedReplicas ?? 0) > (before.UpdatedReplicas ?? 0)
            || (status.Replicas ?? 0) - (status.UpdatedReplicas ?? 0) < (before.Replicas ?? 0) - (before.UpdatedReplicas ?? 0)
            || (status.ReadyReplicas ?? 0) > (before.ReadyReplicas ?? 0)
            || (status.AvailableReplicas ?? 0) > (before.AvailableReplicas ?? 0);
        if (progressed || current is null)
        {
            return new V1DeploymentCondition
            {
                Type = "Progressing",
                Status = "True",
                Reason = "ReplicaSetUpdated",
                Message = $"{subject} is progressing.",
                LastTransitionTime = current?.Status == "True" ? current.LastTransitionTime : now,
                LastUpdateTime = now,
            };
        }

        bool timedOut = current.Reason == "ProgressDeadlineExceeded"
            || (current.Reason != "NewReplicaSetAvailable" && (current.LastUpdateTime ?? now).ToUniversalTime() + TimeSpan.FromSeconds(deadline) < now);
        return timedOut ? Condition(d, "Progressing", "False", "ProgressDeadlineExceeded", $"{subject} has timed out progressing.", now) : current;
    }

    /// <summary>A condition that keeps its timestamps while its status (transition) or reason (update) stays the same.</summary>
    private static V1DeploymentCondition Condition(V1Deployment d, string type, string status, string reason, string message, DateTime now)
    {
        var previous = d.Status?.Conditions?.FirstOrDefault(c => c.Type == type);
        return new V1DeploymentCondition
        {
            Type = type,
            Status = status,
            Reason = reason,
            Message = message,
            LastTransitionTime = previous?.Status == status ? previous.LastTransitionTime : now,
            LastUpdateTime = previous?.Status == status && previous.Reason == reason && previous.Message == message ? previous.LastUpdateTime : now,
        };
    }

    /// <summary>Zero counts are omitted on the wire; compare them as zero.</summary>
    private static V1DeploymentStatus Normalize(V1DeploymentStatus? status) => new()
    {
        ObservedGeneration = status?.ObservedGeneration ?? 0,
        Replicas = status?.Replicas ?? 0,
        UpdatedReplicas = status?.UpdatedReplicas ?? 0,
        ReadyReplicas = status?.ReadyReplicas ?? 0,
        AvailableReplicas = status?.AvailableReplicas ?? 0,
        UnavailableReplicas = status?.UnavailableReplicas ?? 0,
        CollisionCount = status?.CollisionCount,
        Conditions = status?.Conditions?.OrderBy(c => c.Type, StringComparer.Ordinal).ToList(),
    };

    /// <summary>Enqueues the ReplicaSet's controlling deployment, or for an orphan every deployment that may adopt it.</summary>
    private void EnqueueOwner(V1ReplicaSet rs)
    {
        if (Objects.ControllerOf(rs) is { } owner)
        {
            if (owner.Kind == "Deployment")
            {
                Queue.Add(ObjectKey.Of(rs.Metadata.NamespaceProperty, owner.Name));
            }

            return;
        }

        foreach (var d in Context.Informers.Deployments.Cache.InNamespace(rs.Metadata.NamespaceProperty))
        {
            if (LabelSelector.MatchesNonEmpty(d.Spec?.Selector, rs.Metadata.Labels))
            {
                Queue.Add(ObjectKey.Of(d));
            }
        }
    }
}
