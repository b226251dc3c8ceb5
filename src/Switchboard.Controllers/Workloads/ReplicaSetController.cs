using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Selectors;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// Keeps each ReplicaSet's count of active pods at spec.replicas: creates pods from the template (named
/// <c>&lt;rs&gt;-&lt;5 chars&gt;</c>, controller-owned by the ReplicaSet) in slow-start batches, deletes the least
/// valuable surplus pods, and reports replicas/ready/available in the status.
/// </summary>
internal sealed class ReplicaSetController : QueueController
{
    public const string Component = "replicaset-controller";
    private const int MaxBurst = 500;
    private readonly Expectations _expectations;

    public ReplicaSetController(ControllerContext context)
        : base(context, "replicaset")
    {
        _expectations = new Expectations(context.Time);
        var informers = context.Informers;
        informers.ReplicaSets.AddHandler(rs => Queue.Add(ObjectKey.Of(rs)), (_, rs) => Queue.Add(ObjectKey.Of(rs)), rs => Queue.Add(ObjectKey.Of(rs)));
        informers.Pods.AddHandler(EnqueueOwner, (old, pod) =>
        {
            EnqueueOwner(pod);
            if (Objects.ControllerOf(old)?.Uid != Objects.ControllerOf(pod)?.Uid)
            {
                EnqueueOwner(old);
            }
        }, EnqueueOwner);
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var rs = Context.Informers.ReplicaSets.Cache.Get(key);
        if (rs is null)
        {
            _expectations.Forget(key);
            return;
        }

        var active = (await ClaimPodsAsync(rs, cancellationToken)).Where(Objects.IsActive).ToList();
        if (rs.Metadata.DeletionTimestamp is null)
        {
            await ManageReplicasAsync(key, rs, active, cancellationToken);
        }

        await UpdateStatusAsync(rs, active, cancellationToken);
    }

    /// <summary>
    /// The pods the ReplicaSet controls after adopting active orphans its selector matches and releasing pods it no
    /// longer matches (upstream's claimPods).
    /// </summary>
    private Task<List<V1Pod>> ClaimPodsAsync(V1ReplicaSet rs, CancellationToken cancellationToken) =>
        PodClaims.ClaimAsync(
            Context, rs, "apps/v1", "ReplicaSet", rs.Spec.Selector,
            async ct => (IKubernetesObject<V1ObjectMeta>)await Context.Client.AppsV1.ReadNamespacedReplicaSetAsync(rs.Metadata.Name, rs.Metadata.NamespaceProperty, cancellationToken: ct),
            cancellationToken);

    private async Task ManageReplicasAsync(string key, V1ReplicaSet rs, List<V1Pod> active, CancellationToken cancellationToken)
    {
        var podCache = Context.Informers.Pods.Cache;
        string ns = rs.Metadata.NamespaceProperty;
        var (creates, deletes) = _expectations.Pending(
            key,
            name => podCache.Get(ns, name) is not null,
            name => podCache.Get(ns, name) is { } p && Objects.IsActive(p));
        int effective = active.Count + creates.Count - active.Count(p => deletes.Contains(p.Metadata.Name));
        int diff = (rs.Spec.Replicas ?? 1) - effective;
        if (diff > 0)
        {
            await CreatePodsAsync(key, rs, Math.Min(diff, MaxBurst), cancellationToken);
        }
        else if (diff < 0)
        {
            var victims = active.Where(p => !deletes.Contains(p.Metadata.Name)).OrderBy(DeletionRank.Of).ThenByDescending(p => p.Metadata.CreationTimestamp).Take(Math.Min(-diff, MaxBurst));
            await Task.WhenAll(victims.Select(p => DeletePodAsync(key, rs, p, cancellationToken)));
        }
    }

    /// <summary>Creates in batches of 1, 2, 4, … so a failing template costs one request, not hundreds.</summary>
    private async Task CreatePodsAsync(string key, V1ReplicaSet rs, int count, CancellationToken cancellationToken)
    {
        int batch = 1;
        while (count > 0)
        {
            int size = Math.Min(batch, count);
            await Task.WhenAll(Enumerable.Range(0, size).Select(_ => CreatePodAsync(key, rs, cancellationToken)));
            count -= size;
            batch *= 2;
        }
    }

    private async Task CreatePodAsync(string key, V1ReplicaSet rs, CancellationToken cancellationToken)
    {
        var template = rs.Spec.Template;
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = rs.Metadata.Name + "-",
                Labels = template.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels) : null,
                Annotations = template.Metadata?.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : null,
                OwnerReferences = [Objects.ControllerReference(rs, "apps/v1", "ReplicaSet")],
            },
            Spec = ModelJson.Clone(template.Spec),
        };
        try
        {
            var created = await Context.Client.CoreV1.CreateNamespacedPodAsync(pod, rs.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            _expectations.Created(key, created.Metadata.Name);
            Context.Events.Normal(rs, Component, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Context.Events.Warning(rs, Component, "FailedCreate", $"Error creating: {e.Message}");
            throw;
        }
    }

    private async Task DeletePodAsync(string key, V1ReplicaSet rs, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await Context.Client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty,
                new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
            _expectations.Deleted(key, pod.Metadata.Name);
            Context.Events.Normal(rs, Component, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Conflict)
        {
            // Already gone (or replaced by a namesake): nothing left to delete.
        }
    }

    private async Task UpdateStatusAsync(V1ReplicaSet rs, List<V1Pod> active, CancellationToken cancellationToken)
    {
        var now = Context.Time.GetUtcNow();
        int minReady = rs.Spec.MinReadySeconds ?? 0;
        var templateLabels = rs.Spec.Template?.Metadata?.Labels;
        var status = new V1ReplicaSetStatus
        {
            Replicas = active.Count,
            FullyLabeledReplicas = active.Count(p => templateLabels is null || templateLabels.All(l => p.Metadata.Labels?.TryGetValue(l.Key, out string? v) == true && v == l.Value)),
            ReadyReplicas = active.Count(Objects.IsReady),
            AvailableReplicas = active.Count(p => Objects.IsAvailable(p, minReady, now)),
            ObservedGeneration = rs.Metadata.Generation,
            Conditions = rs.Status?.Conditions,
        };
        if (minReady > 0 && status.ReadyReplicas != status.AvailableReplicas)
        {
            // Pods become available by the clock, not by an event: look again when the next one may.
            Queue.AddAfter(ObjectKey.Of(rs), TimeSpan.FromSeconds(1));
        }

        if (ModelJson.SameContent(Normalize(status), Normalize(rs.Status)))
        {
            return;
        }

        var patch = new JsonObject { ["status"] = Json.Node(status) };
        await Context.Client.AppsV1.PatchNamespacedReplicaSetStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), rs.Metadata.Name, rs.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
    }

    /// <summary>Zero counts are omitted on the wire; compare them as zero.</summary>
    private static V1ReplicaSetStatus Normalize(V1ReplicaSetStatus? status) => new()
    {
        Replicas = status?.Replicas ?? 0,
        FullyLabeledReplicas = status?.FullyLabeledReplicas ?? 0,
        ReadyReplicas = status?.ReadyReplicas ?? 0,
        AvailableReplicas = status?.AvailableReplicas ?? 0,
        ObservedGeneration = status?.ObservedGeneration ?? 0,
    };

    /// <summary>Enqueues the pod's controlling ReplicaSet, or for an active orphan every ReplicaSet that may adopt it.</summary>
    private void EnqueueOwner(V1Pod pod)
    {
        if (Objects.ControllerOf(pod) is { } owner)
        {
            if (owner.Kind == "ReplicaSet")
            {
                Queue.Add(ObjectKey.Of(pod.Metadata.NamespaceProperty, owner.Name));
            }

            return;
        }

        if (!Objects.IsActive(pod))
        {
            return;
        }

        foreach (var rs in Context.Informers.ReplicaSets.Cache.InNamespace(pod.Metadata.NamespaceProperty))
        {
            if (LabelSelector.MatchesNonEmpty(rs.Spec?.Selector, pod.Metadata.Labels))
            {
                Queue.Add(ObjectKey.Of(rs));
            }
        }
    }
}
