using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Informers;

namespace Switchboard.Controllers.Shared;

/// <summary>
/// One informer per kind, shared by every controller, with the indexes they look things up by:
/// <see cref="UidIndex"/> (an object by its uid), <see cref="OwnerIndex"/> (dependents by owner uid),
/// <see cref="NodeIndex"/> (pods by node), <see cref="LabelIndex"/> (pods by one label key=value),
/// <see cref="SelectorIndex"/> (services by one key=value of their selector) and <see cref="ServiceIndex"/>
/// (EndpointSlices by namespace/service). The informers are the process's (<see cref="KubeClientSource.Informers"/>),
/// shared with the other components in it.
/// </summary>
internal sealed class SharedInformers
{
    public const string UidIndex = "uid";
    public const string OwnerIndex = "owner";
    public const string NodeIndex = "node";
    public const string ServiceIndex = "service";
    public const string LabelIndex = "label";
    public const string SelectorIndex = "selector";
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    /// <summary>Where each node's heartbeat Lease lives, named as its node.</summary>
    public const string NodeLeaseNamespace = "kube-node-lease";

    public SharedInformers(KubeClientSource source, ILoggerFactory loggerFactory, TimeProvider time, TimeSpan resyncPeriod)
    {
        var options = new InformerOptions { ResyncPeriod = resyncPeriod };
        Informer<T> Create<T>(Func<IKubernetes, ListWatch<T>> listWatch)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            var informer = source.Informers.Get(() => listWatch(source.Client), loggerFactory, time, options);
            informer.Cache.AddIndex(UidIndex, o => [o.Metadata.Uid]);
            informer.Cache.AddIndex(OwnerIndex, o => o.Metadata.OwnerReferences?.Select(r => r.Uid) ?? []);
            return informer;
        }

        Pods = Create(client => ListWatches.Pods(client));
        Pods.Cache.AddIndex(NodeIndex, p => p.Spec?.NodeName is { Length: > 0 } node ? [node] : []);
        Pods.Cache.AddIndex(LabelIndex, p => LabelSets.IndexValues(p.Metadata.Labels));
        Services = Create(client => ListWatches.Services(client));
        Services.Cache.AddIndex(SelectorIndex, s => LabelSets.IndexValues(s.Spec?.Selector));
        Endpoints = Create(client => ListWatches.Endpoints(client));
        EndpointSlices = Create(client => ListWatches.EndpointSlices(client));
        EndpointSlices.Cache.AddIndex(ServiceIndex, s => ServiceKeyOf(s) is { } service ? [service] : []);
        Namespaces = Create(client => ListWatches.Namespaces(client));
        Nodes = Create(client => ListWatches.Nodes(client));
        Deployments = Create(client => ListWatches.Deployments(client));
        ReplicaSets = Create(client => ListWatches.ReplicaSets(client));
        StatefulSets = Create(client => ListWatches.StatefulSets(client));
        DaemonSets = Create(client => ListWatches.DaemonSets(client));
        ControllerRevisions = Create(client => ListWatches.ControllerRevisions(client));
        Jobs = Create(client => ListWatches.Jobs(client));
        CronJobs = Create(client => ListWatches.CronJobs(client));
        DisruptionBudgets = Create(client => ListWatches.PodDisruptionBudgets(client));
        ServiceAccounts = Create(client => ListWatches.ServiceAccounts(client));
        ClusterRoles = Create(client => ListWatches.ClusterRoles(client));

        // Only the root-CA publisher's ConfigMaps, and not the process's shared informer: others in it may follow them all.
        RootCaConfigMaps = new Informer<V1ConfigMap>(ListWatches.ConfigMaps(source.Client, "metadata.name=" + RootCaConfigMapName), loggerFactory.CreateLogger<Informer<V1ConfigMap>>(), time, options);
        NodeLeases = source.Informers.Get(() => ListWatches.Leases(source.Client, NodeLeaseNamespace), loggerFactory, time, options, scope: NodeLeaseNamespace);
    }

    /// <summary>The ConfigMap with the cluster CA that the root-CA publisher keeps in every namespace.</summary>
    public const string RootCaConfigMapName = "kube-root-ca.crt";

    public Informer<V1Pod> Pods { get; }

    public Informer<V1Service> Services { get; }

    public Informer<V1Endpoints> Endpoints { get; }

    public Informer<V1EndpointSlice> EndpointSlices { get; }

    public Informer<V1Namespace> Namespaces { get; }

    public Informer<V1Node> Nodes { get; }

    public Informer<V1Deployment> Deployments { get; }

    public Informer<V1ReplicaSet> ReplicaSets { get; }

    public Informer<V1StatefulSet> StatefulSets { get; }

    public Informer<V1DaemonSet> DaemonSets { get; }

    public Informer<V1ControllerRevision> ControllerRevisions { get; }

    public Informer<V1Job> Jobs { get; }

    public Informer<V1CronJob> CronJobs { get; }

    public Informer<V1PodDisruptionBudget> DisruptionBudgets { get; }

    public Informer<V1ServiceAccount> ServiceAccounts { get; }

    public Informer<V1ClusterRole> ClusterRoles { get; }

    /// <summary>The <see cref="RootCaConfigMapName"/> ConfigMaps of every namespace (a field selector on the name).</summary>
    public Informer<V1ConfigMap> RootCaConfigMaps { get; }
    /// <summary>The nodes' Leases in <see cref="NodeLeaseNamespace"/>, which the node lifecycle controller reads each look.</summary>
    public Informer<V1Lease> NodeLeases { get; }

    /// <summary>The namespace/name key of the service an EndpointSlice belongs to, by its service-name label.</summary>
    public static string? ServiceKeyOf(V1EndpointSlice slice) =>
        slice.Metadata.Labels?.TryGetValue(ServiceNameLabel, out string? service) == true ? ObjectKey.Of(slice.Metadata.NamespaceProperty, service) : null;

    public Task RunAsync(CancellationToken cancellationToken) => Task.WhenAll(
        Pods.RunAsync(cancellationToken), Services.RunAsync(cancellationToken), Endpoints.RunAsync(cancellationToken),
        EndpointSlices.RunAsync(cancellationToken), Namespaces.RunAsync(cancellationToken), Nodes.RunAsync(cancellationToken),
        Deployments.RunAsync(cancellationToken), ReplicaSets.RunAsync(cancellationToken),
        StatefulSets.RunAsync(cancellationToken), DaemonSets.RunAsync(cancellationToken), ControllerRevisions.RunAsync(cancellationToken),
        Jobs.RunAsync(cancellationToken), CronJobs.RunAsync(cancellationToken),
        DisruptionBudgets.RunAsync(cancellationToken),
        ServiceAccounts.RunAsync(cancellationToken), ClusterRoles.RunAsync(cancellationToken),
        RootCaConfigMaps.RunAsync(cancellationToken),
        NodeLeases.RunAsync(cancellationToken));

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => Task.WhenAll(
        Pods.WaitForSyncAsync(cancellationToken), Services.WaitForSyncAsync(cancellationToken), Endpoints.WaitForSyncAsync(cancellationToken),
        EndpointSlices.WaitForSyncAsync(cancellationToken), Namespaces.WaitForSyncAsync(cancellationToken), Nodes.WaitForSyncAsync(cancellationToken),
        Deployments.WaitForSyncAsync(cancellationToken), ReplicaSets.WaitForSyncAsync(cancellationToken),
        StatefulSets.WaitForSyncAsync(cancellationToken), DaemonSets.WaitForSyncAsync(cancellationToken), ControllerRevisions.WaitForSyncAsync(cancellationToken),
        Jobs.WaitForSyncAsync(cancellationToken), CronJobs.WaitForSyncAsync(cancellationToken),
        DisruptionBudgets.WaitForSyncAsync(cancellationToken),
        ServiceAccounts.WaitForSyncAsync(cancellationToken), ClusterRoles.WaitForSyncAsync(cancellationToken),
        RootCaConfigMaps.WaitForSyncAsync(cancellationToken),
        NodeLeases.WaitForSyncAsync(cancellationToken));
}
