using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;

namespace Switchboard.Controllers.GarbageCollection;

/// <summary>
/// Deletion by ownerReferences of the kinds the controllers own (Deployment → ReplicaSet → Pod, StatefulSet and
/// DaemonSet → ControllerRevision and Pod, CronJob → Job → Pod, Service → EndpointSlice), whatever kind their owners are: an object whose owners are all gone is deleted (Background); one
/// that lost only some owners loses only those references; an owner deleted with Foreground waits (finalizer
/// foregroundDeletion) until its dependents are gone; with Orphan (finalizer orphan) its dependents lose the reference
/// and stay. Owners of kinds without an informer are looked up through discovery and rechecked periodically.
/// </summary>
internal sealed class GarbageCollector : QueueController
{
    private const string Foreground = "foregroundDeletion";
    private const string Orphan = "orphan";
    private readonly IReadOnlyList<IKindAccess> _kinds;
    private readonly OwnerLookup _lookup;

    public GarbageCollector(ControllerContext context)
        : base(context, "garbagecollector")
    {
        var informers = context.Informers;
        var client = context.Client;
        _lookup = new OwnerLookup(client);
        _kinds =
        [
            new KindAccess<V1Deployment>("apps", "Deployment", informers.Deployments,
                (ns, n, o, ct) => client.AppsV1.DeleteNamespacedDeploymentAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.AppsV1.PatchNamespacedDeploymentAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.AppsV1.ReadNamespacedDeploymentAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1ReplicaSet>("apps", "ReplicaSet", informers.ReplicaSets,
                (ns, n, o, ct) => client.AppsV1.DeleteNamespacedReplicaSetAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.AppsV1.PatchNamespacedReplicaSetAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.AppsV1.ReadNamespacedReplicaSetAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1StatefulSet>("apps", "StatefulSet", informers.StatefulSets,
                (ns, n, o, ct) => client.AppsV1.DeleteNamespacedStatefulSetAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.AppsV1.PatchNamespacedStatefulSetAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.AppsV1.ReadNamespacedStatefulSetAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1DaemonSet>("apps", "DaemonSet", informers.DaemonSets,
                (ns, n, o, ct) => client.AppsV1.DeleteNamespacedDaemonSetAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.AppsV1.PatchNamespacedDaemonSetAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.AppsV1.ReadNamespacedDaemonSetAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1ControllerRevision>("apps", "ControllerRevision", informers.ControllerRevisions,
                (ns, n, o, ct) => client.AppsV1.DeleteNamespacedControllerRevisionAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.AppsV1.PatchNamespacedControllerRevisionAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.AppsV1.ReadNamespacedControllerRevisionAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1CronJob>("batch", "CronJob", informers.CronJobs,
                (ns, n, o, ct) => client.BatchV1.DeleteNamespacedCronJobAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.BatchV1.PatchNamespacedCronJobAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.BatchV1.ReadNamespacedCronJobAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1Job>("batch", "Job", informers.Jobs,
                (ns, n, o, ct) => client.BatchV1.DeleteNamespacedJobAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.BatchV1.PatchNamespacedJobAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.BatchV1.ReadNamespacedJobAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1Pod>("", "Pod", informers.Pods,
                (ns, n, o, ct) => client.CoreV1.DeleteNamespacedPodAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.CoreV1.PatchNamespacedPodAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.CoreV1.ReadNamespacedPodAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1Service>("", "Service", informers.Services,
                (ns, n, o, ct) => client.CoreV1.DeleteNamespacedServiceAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.CoreV1.PatchNamespacedServiceAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.CoreV1.ReadNamespacedServiceAsync(n, ns, cancellationToken: ct)),
            new KindAccess<V1EndpointSlice>("discovery.k8s.io", "EndpointSlice", informers.EndpointSlices,
                (ns, n, o, ct) => client.DiscoveryV1.DeleteNamespacedEndpointSliceAsync(n, ns, o, cancellationToken: ct),
                (ns, n, p, ct) => client.DiscoveryV1.PatchNamespacedEndpointSliceAsync(p, n, ns, cancellationToken: ct),
                (ns, n, ct) => client.DiscoveryV1.ReadNamespacedEndpointSliceAsync(n, ns, cancellationToken: ct)),
        ];
        foreach (var kind in _kinds)
        {
            kind.Register(this);
        }
    }

    internal void Changed(IKindAccess kind, IKubernetesObject<V1ObjectMeta> obj)
    {
        if (obj.Metadata.OwnerReferences is { Count: > 0 } || HasGcFinalizer(obj))
        {
            Queue.Add(kind.Kind + "|" + ObjectKey.Of(obj));
        }
    }

    internal void Deleted(IKubernetesObject<V1ObjectMeta> obj)
    {
        // Its dependents may now be orphans; its owners may be waiting for it in foreground deletion.
        foreach (var kind in _kinds)
        {
            foreach (var dependent in kind.Dependents(obj.Metadata.Uid))
            {
                Queue.Add(kind.Kind + "|" + ObjectKey.Of(dependent));
            }
        }

        foreach (var owner in obj.Metadata.OwnerReferences ?? [])
        {
            if (Find(owner) is { } kind && kind.FromCache(owner.Uid) is { } ownerObject)
            {
                Queue.Add(kind.Kind + "|" + ObjectKey.Of(ownerObject));
            }
        }
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        int bar = key.IndexOf('|', StringComparison.Ordinal);
        var kind = _kinds.First(k => k.Kind == key[..bar]);
        var obj = kind.Get(key[(bar + 1)..]);
        if (obj is null)
        {
            return;
        }

        string? ns = obj.Metadata.NamespaceProperty;
        var finalizers = obj.Metadata.Finalizers ?? [];
        if (obj.Metadata.DeletionTimestamp is not null && finalizers.Contains(Orphan))
        {
            await OrphanDependentsAsync(obj, cancellationToken);
            await RemoveFinalizerAsync(kind, obj, Orphan, cancellationToken);
            return;
        }

        if (obj.Metadata.DeletionTimestamp is not null && finalizers.Contains(Foreground))
        {
            var dependents = _kinds.SelectMany(k => k.Dependents(obj.Metadata.Uid).Select(d => (Kind: k, Object: d))).ToList();
            foreach (var (dependentKind, dependent) in dependents.Where(d => d.Object.Metadata.DeletionTimestamp is null))
            {
                await DeleteAsync(dependentKind, dependent, "Foreground", cancellationToken);
            }

            if (dependents.Count == 0)
            {
                await RemoveFinalizerAsync(kind, obj, Foreground, cancellationToken);
            }

            return;
        }

        var owners = obj.Metadata.OwnerReferences ?? [];
        if (owners.Count == 0 || obj.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        var gone = new List<V1OwnerReference>();
        bool unwatched = false;
        foreach (var owner in owners)
        {
            var ownerKind = Find(owner);
            unwatched |= ownerKind is null;
            if (await OwnerExistsAsync(owner, ownerKind, ns, cancellationToken) is false)
            {
                gone.Add(owner);
            }
        }

        if (unwatched)
        {
            // No informer tells when an owner of that kind goes: look again later.
            Queue.AddAfter(key, Context.Options.UnwatchedOwnerRecheck);
        }

        if (gone.Count == owners.Count)
        {
            await DeleteAsync(kind, obj, "Background", cancellationToken);
        }
        else if (gone.Count > 0)
        {
            // Some owners remain: only the references to the gone ones go.
            var remaining = owners.Where(o => !gone.Contains(o)).ToList();
            await PatchAsync(kind, obj, Json.MetadataListPatch(obj, "ownerReferences", remaining), cancellationToken);
        }
    }

    /// <summary>True or false when known; null when the owner's kind cannot be resolved (never collect on a guess).</summary>
    private async Task<bool?> OwnerExistsAsync(V1OwnerReference owner, IKindAccess? kind, string? ns, CancellationToken cancellationToken)
    {
        if (kind is null)
        {
            return await _lookup.ExistsAsync(owner, ns, cancellationToken);
        }

        if (kind.FromCache(owner.Uid) is not null)
        {
            return true;
        }

        // The cache may lag behind a just-created owner: ask the server before deleting anything.
        try
        {
            var live = await kind.ReadAsync(ns, owner.Name, cancellationToken);
            return live.Metadata.Uid == owner.Uid;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private async Task OrphanDependentsAsync(IKubernetesObject<V1ObjectMeta> owner, CancellationToken cancellationToken)
    {
        foreach (var kind in _kinds)
        {
            foreach (var dependent in kind.Dependents(owner.Metadata.Uid))
            {
                var remaining = (dependent.Metadata.OwnerReferences ?? []).Where(r => r.Uid != owner.Metadata.Uid).ToList();
                await PatchAsync(kind, dependent, Json.MetadataListPatch(dependent, "ownerReferences", remaining), cancellationToken);
            }
        }
    }

    private static Task RemoveFinalizerAsync(IKindAccess kind, IKubernetesObject<V1ObjectMeta> obj, string finalizer, CancellationToken cancellationToken)
    {
        var remaining = (obj.Metadata.Finalizers ?? []).Where(f => f != finalizer).ToList();
        return PatchAsync(kind, obj, Json.MetadataListPatch(obj, "finalizers", remaining), cancellationToken);
    }

    private static Task PatchAsync(IKindAccess kind, IKubernetesObject<V1ObjectMeta> obj, JsonObject patch, CancellationToken cancellationToken) =>
        ApiCalls.IgnoreNotFoundAsync(() => kind.PatchAsync(obj.Metadata.NamespaceProperty, obj.Metadata.Name, new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), cancellationToken));

    private static Task DeleteAsync(IKindAccess kind, IKubernetesObject<V1ObjectMeta> obj, string policy, CancellationToken cancellationToken) =>
        ApiCalls.IgnoreNotFoundAsync(() => kind.DeleteAsync(obj.Metadata.NamespaceProperty, obj.Metadata.Name,
            new V1DeleteOptions { PropagationPolicy = policy, Preconditions = new V1Preconditions { Uid = obj.Metadata.Uid } }, cancellationToken));

    private IKindAccess? Find(V1OwnerReference owner)
    {
        string group = OwnerLookup.SplitApiVersion(owner.ApiVersion).Group;
        return _kinds.FirstOrDefault(k => k.Kind == owner.Kind && k.Group == group);
    }

    private static bool HasGcFinalizer(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata.DeletionTimestamp is not null && obj.Metadata.Finalizers?.Any(f => f is Foreground or Orphan) == true;

    /// <summary>What the collector needs of one kind, without knowing its model type.</summary>
    internal interface IKindAccess
    {
        string Group { get; }

        string Kind { get; }

        void Register(GarbageCollector collector);

        IKubernetesObject<V1ObjectMeta>? Get(string key);

        IKubernetesObject<V1ObjectMeta>? FromCache(string uid);

        IEnumerable<IKubernetesObject<V1ObjectMeta>> Dependents(string ownerUid);

        Task<IKubernetesObject<V1ObjectMeta>> ReadAsync(string? ns, string name, CancellationToken cancellationToken);

        Task DeleteAsync(string? ns, string name, V1DeleteOptions options, CancellationToken cancellationToken);

        Task PatchAsync(string? ns, string name, V1Patch patch, CancellationToken cancellationToken);
    }

    private sealed class KindAccess<T>(
        string group,
        string kind,
        Informer<T> informer,
        Func<string, string, V1DeleteOptions, CancellationToken, Task> delete,
        Func<string, string, V1Patch, CancellationToken, Task> patch,
        Func<string, string, CancellationToken, Task<T>> read) : IKindAccess
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        public string Group => group;

        public string Kind => kind;

        public void Register(GarbageCollector collector) =>
            informer.AddHandler(o => collector.Changed(this, o), (_, o) => collector.Changed(this, o), collector.Deleted);

        public IKubernetesObject<V1ObjectMeta>? Get(string key) => informer.Cache.Get(key);

        public IKubernetesObject<V1ObjectMeta>? FromCache(string uid) => informer.Cache.ByIndex(SharedInformers.UidIndex, uid).FirstOrDefault();

        public IEnumerable<IKubernetesObject<V1ObjectMeta>> Dependents(string ownerUid) => informer.Cache.ByIndex(SharedInformers.OwnerIndex, ownerUid);

        public async Task<IKubernetesObject<V1ObjectMeta>> ReadAsync(string? ns, string name, CancellationToken cancellationToken) => await read(ns ?? "", name, cancellationToken);

        public Task DeleteAsync(string? ns, string name, V1DeleteOptions options, CancellationToken cancellationToken) => delete(ns ?? "", name, options, cancellationToken);

        public Task PatchAsync(string? ns, string name, V1Patch patch1, CancellationToken cancellationToken) => patch(ns ?? "", name, patch1, cancellationToken);
    }
}
