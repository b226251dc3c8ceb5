using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Selectors;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// upstream's StatefulSet controller: pods with stable names <c>&lt;set&gt;-&lt;ordinal&gt;</c> whose hostname is their name and
/// subdomain the set's serviceName (so <c>web-0.nginx.ns.svc.cluster.local</c> resolves through the headless Service's
/// EndpointSlice), each labelled with the ControllerRevision it was made from. OrderedReady creates them one at a
/// time in order, each once the one before is Running and Ready, and removes surplus ones from the highest ordinal one
/// at a time; Parallel does both at once. RollingUpdate replaces pods from the highest ordinal down to the partition,
/// one at a time, each once its predecessor is healthy again; OnDelete leaves that to the user. Failed pods are
/// deleted and made again under the same name.
/// </summary>
internal sealed class StatefulSetController : QueueController
{
    public const string Component = "statefulset-controller";
    public const string PodNameLabel = "statefulset.kubernetes.io/pod-name";
    public const string PodIndexLabel = "apps.kubernetes.io/pod-index";
    private readonly ControllerHistory _history;

    public StatefulSetController(ControllerContext context)
        : base(context, "statefulset")
    {
        _history = new ControllerHistory(context);
        context.Informers.StatefulSets.AddHandler(s => Queue.Add(ObjectKey.Of(s)), (_, s) => Queue.Add(ObjectKey.Of(s)), s => Queue.Add(ObjectKey.Of(s)));
        context.Informers.Pods.AddHandler(EnqueueOwner, (_, pod) => EnqueueOwner(pod), EnqueueOwner);
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var set = Context.Informers.StatefulSets.Cache.Get(key);
        if (set is null || set.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        var pods = await PodClaims.ClaimAsync(
            Context, set, "apps/v1", "StatefulSet", set.Spec.Selector,
            async ct => (IKubernetesObject<V1ObjectMeta>)await Context.Client.AppsV1.ReadNamespacedStatefulSetAsync(set.Metadata.Name, set.Metadata.NamespaceProperty, cancellationToken: ct),
            cancellationToken);
        var revisions = _history.Of(set);
        var update = await _history.EnsureAsync(set, "apps/v1", "StatefulSet", set.Spec.Template, revisions, cancellationToken);
        revisions = [.. revisions.Where(r => r.Metadata.Name != update.Metadata.Name), update];
        var current = revisions.FirstOrDefault(r => r.Metadata.Name == set.Status?.CurrentRevision) ?? update;

        await ReconcileAsync(set, pods, current, update, cancellationToken);

        var live = pods.Select(Revision).OfType<string>().Append(current.Metadata.Name).Append(update.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        await _history.PruneAsync(revisions, live, set.Spec.RevisionHistoryLimit ?? 10, cancellationToken);
        await UpdateStatusAsync(set, pods, current, update, cancellationToken);
    }

    /// <summary>One step of upstream's updateStatefulSet: what OrderedReady allows before it waits, or all of it for Parallel.</summary>
    private async Task ReconcileAsync(V1StatefulSet set, List<V1Pod> pods, V1ControllerRevision current, V1ControllerRevision update, CancellationToken cancellationToken)
    {
        bool ordered = set.Spec.PodManagementPolicy != "Parallel";
        int start = set.Spec.Ordinals?.Start ?? 0;
        int replicas = set.Spec.Replicas ?? 1;
        var slots = new V1Pod?[replicas];
        var condemned = new List<V1Pod>();
        foreach (var pod in pods)
        {
            int ordinal = Ordinal(set, pod);
            if (ordinal >= start && ordinal < start + replicas)
            {
                slots[ordinal - start] = pod;
            }
            else
            {
                condemned.Add(pod);
            }
        }

        for (int i = 0; i < replicas; i++)
        {
            var pod = slots[i];
            if (pod is not null && Objects.IsTerminal(pod) && !Objects.IsTerminating(pod))
            {
                // A failed (or finished) member is deleted and made again under its name on a later sync.
                await DeletePodAsync(set, pod, cancellationToken);
                slots[i] = pod = null;
                if (ordered)
                {
                    return;
                }

                continue;
            }

            if (pod is null)
            {
                int ordinal = start + i;
                bool atCurrent = set.Spec.UpdateStrategy?.Type == "RollingUpdate" && ordinal < start + (set.Spec.UpdateStrategy.RollingUpdate?.Partition ?? 0);
                await CreatePodAsync(set, ordinal, atCurrent ? current : update, cancellationToken);
                if (ordered)
                {
                    return;
                }

                continue;
            }

            if (ordered && (Objects.IsTerminating(pod) || !IsRunningAndReady(pod)))
            {
                return;
            }
        }

        foreach (var pod in condemned.OrderByDescending(p => Ordinal(set, p)))
        {
            if (Objects.IsTerminating(pod))
            {
                if (ordered)
                {
                    return;
                }

                continue;
            }

            await DeletePodAsync(set, pod, cancellationToken);
            if (ordered)
            {
                return;
            }
        }

        if (set.Spec.UpdateStrategy?.Type != "RollingUpdate" || slots.Any(p => p is null))
        {
            return;
        }

        int partition = set.Spec.UpdateStrategy.RollingUpdate?.Partition ?? 0;
        for (int i = replicas - 1; i >= Math.Max(0, partition); i--)
        {
            var pod = slots[i]!;
            if (Revision(pod) != update.Metadata.Name && !Objects.IsTerminating(pod))
            {
                await DeletePodAsync(set, pod, cancellationToken);
                return;
            }

            if (!IsHealthy(pod, set.Spec.MinReadySeconds ?? 0))
            {
                return;
            }
        }
    }

    private async Task CreatePodAsync(V1StatefulSet set, int ordinal, V1ControllerRevision revision, CancellationToken cancellationToken)
    {
        var template = ControllerHistory.Template(revision);
        string name = $"{set.Metadata.Name}-{ordinal.ToString(CultureInfo.InvariantCulture)}";
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>())
        {
            [ControllerHistory.PodRevisionLabel] = revision.Metadata.Name,
            [PodNameLabel] = name,
            [PodIndexLabel] = ordinal.ToString(CultureInfo.InvariantCulture),
        };
        var spec = template.Spec ?? new V1PodSpec();
        spec.Hostname = name;
        spec.Subdomain = string.IsNullOrEmpty(set.Spec.ServiceName) ? null : set.Spec.ServiceName;
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = labels,
                Annotations = template.Metadata?.Annotations,
                OwnerReferences = [Objects.ControllerReference(set, "apps/v1", "StatefulSet")],
            },
            Spec = spec,
        };
        try
        {
            await Context.Client.CoreV1.CreateNamespacedPodAsync(pod, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            Context.Events.Normal(set, Component, "SuccessfulCreate", $"create Pod {name} in StatefulSet {set.Metadata.Name} successful");
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // The cache has not shown our earlier create yet, or the old pod of that name is still going: a later sync sees which.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Context.Events.Warning(set, Component, "FailedCreate", $"create Pod {name} in StatefulSet {set.Metadata.Name} failed error: {e.Message}");
            throw;
        }
    }

    private async Task DeletePodAsync(V1StatefulSet set, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await Context.Client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty,
                new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
            Context.Events.Normal(set, Component, "SuccessfulDelete", $"delete Pod {pod.Metadata.Name} in StatefulSet {set.Metadata.Name} successful");
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Conflict)
        {
            // Already gone, or already replaced by a namesake.
        }
    }

    private async Task UpdateStatusAsync(V1StatefulSet set, List<V1Pod> pods, V1ControllerRevision current, V1ControllerRevision update, CancellationToken cancellationToken)
    {
        var now = Context.Time.GetUtcNow();
        int minReady = set.Spec.MinReadySeconds ?? 0;
        var status = new V1StatefulSetStatus
        {
            ObservedGeneration = set.Metadata.Generation,
            Replicas = pods.Count,
            ReadyReplicas = pods.Count(IsRunningAndReady),
            AvailableReplicas = pods.Count(p => IsRunningAndReady(p) && Objects.IsAvailable(p, minReady, now)),
            CurrentReplicas = pods.Count(p => !Objects.IsTerminating(p) && Revision(p) == current.Metadata.Name),
            UpdatedReplicas = pods.Count(p => !Objects.IsTerminating(p) && Revision(p) == update.Metadata.Name),
            CurrentRevision = current.Metadata.Name,
            UpdateRevision = update.Metadata.Name,
            CollisionCount = set.Status?.CollisionCount ?? 0,
        };
        if (set.Spec.UpdateStrategy?.Type == "RollingUpdate" && status.UpdatedReplicas == status.Replicas && status.ReadyReplicas == status.Replicas)
        {
            status.CurrentReplicas = status.UpdatedReplicas;
            status.CurrentRevision = status.UpdateRevision;
        }

        if (minReady > 0 && status.ReadyReplicas != status.AvailableReplicas)
        {
            Queue.AddAfter(ObjectKey.Of(set), TimeSpan.FromSeconds(1));
        }

        if (ModelJson.SemanticallyEqual(status, set.Status))
        {
            return;
        }

        var patch = new JsonObject { ["status"] = Json.Node(status) };
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.AppsV1.PatchNamespacedStatefulSetStatusAsync(
            new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), set.Metadata.Name, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
    }

    /// <summary>The ordinal in a member's name, or -1 for a pod whose name is not the set's name and a number.</summary>
    private static int Ordinal(V1StatefulSet set, V1Pod pod)
    {
        string prefix = set.Metadata.Name + "-";
        return pod.Metadata.Name.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(pod.Metadata.Name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int ordinal) ? ordinal : -1;
    }

    private static string? Revision(V1Pod pod) => ControllerHistory.Label(pod, ControllerHistory.PodRevisionLabel);

    private static bool IsRunningAndReady(V1Pod pod) => pod.Status?.Phase == "Running" && Objects.IsReady(pod);

    private bool IsHealthy(V1Pod pod, int minReadySeconds) =>
        IsRunningAndReady(pod) && !Objects.IsTerminating(pod) && Objects.IsAvailable(pod, minReadySeconds, Context.Time.GetUtcNow());

    /// <summary>Enqueues the pod's controlling StatefulSet, or for an orphan every set that may adopt it.</summary>
    private void EnqueueOwner(V1Pod pod)
    {
        if (Objects.ControllerOf(pod) is { } owner)
        {
            if (owner.Kind == "StatefulSet")
            {
                Queue.Add(ObjectKey.Of(pod.Metadata.NamespaceProperty, owner.Name));
            }

            return;
        }

        foreach (var set in Context.Informers.StatefulSets.Cache.InNamespace(pod.Metadata.NamespaceProperty))
        {
            if (LabelSelector.MatchesNonEmpty(set.Spec?.Selector, pod.Metadata.Labels))
            {
                Queue.Add(ObjectKey.Of(set));
            }
        }
    }
}
