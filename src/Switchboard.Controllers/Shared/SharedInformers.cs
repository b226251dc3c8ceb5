using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Informers;

namespace Switchboard.Controllers.Shared;

/// <summary>
/// One informer per kind, shared by every controller, with the indexes they look things up by:
/// <see cref="UidIndex"/> (an object by its uid), <see cref="OwnerIndex"/> (dependents by owner uid),
/// <see cref="NodeIndex"/> (pods by node), <see cref="LabelIndex"/> (pods by one label key=value),
/// <see cref="SelectorIndex"/> (services by one key=value of their selector) and <see cref="ServiceIndex"/>
/// (EndpointSlices by namespace/service).
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

    public SharedInformers(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time, TimeSpan resyncPeriod)
    {
        var options = new InformerOptions { ResyncPeriod = resyncPeriod };
        Informer<T> Create<T>(ListWatch<T> source)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            var informer = new Informer<T>(source, loggerFactory.CreateLogger<Informer<T>>(), time, options);
            informer.Cache.AddIndex(UidIndex, o => [o.Metadata.Uid]);
            informer.Cache.AddIndex(OwnerIndex, o => o.Metadata.OwnerReferences?.Select(r => r.Uid) ?? []);
            return informer;
        }

        Pods = Create(ListWatches.Pods(client));
        Pods.Cache.AddIndex(NodeIndex, p => p.Spec?.NodeName is { Length: > 0 } node ? [node] : []);
        Pods.Cache.AddIndex(LabelIndex, p => LabelSets.IndexValues(p.Metadata.Labels));
        Services = Create(ListWatches.Services(client));
        Services.Cache.AddIndex(SelectorIndex, s => LabelSets.IndexValues(s.Spec?.Selector));
        Endpoints = Create(ListWatches.Endpoints(client));
        EndpointSlices = Create(ListWatches.EndpointSlices(client));
        EndpointSlices.Cache.AddIndex(ServiceIndex, s => ServiceKeyOf(s) is { } service ? [service] : []);
        Namespaces = Create(ListWatches.Namespaces(client));
        Nodes = Create(ListWatches.Nodes(client));
        Deployments = Create(ListWatches.Deployments(client));
        ReplicaSets = Create(ListWatches.ReplicaSets(client));
        ServiceAccounts = Create(ListWatches.ServiceAccounts(client));
        ClusterRoles = Create(ListWatches.ClusterRoles(client));
    }

    public Informer<V1Pod> Pods { get; }

    public Informer<V1Service> Services { get; }

    public Informer<V1Endpoints> Endpoints { get; }

    public Informer<V1EndpointSlice> EndpointSlices { get; }

    public Informer<V1Namespace> Namespaces { get; }

    public Informer<V1Node> Nodes { get; }

    public Informer<V1Deployment> Deployments { get; }

    public Informer<V1ReplicaSet> ReplicaSets { get; }

    public Informer<V1ServiceAccount> ServiceAccounts { get; }

    public Informer<V1ClusterRole> ClusterRoles { get; }

    /// <summary>The namespace/name key of the service an EndpointSlice belongs to, by its service-name label.</summary>
    public static string? ServiceKeyOf(V1EndpointSlice slice) =>
        slice.Metadata.Labels?.TryGetValue(ServiceNameLabel, out string? service) == true ? ObjectKey.Of(slice.Metadata.NamespaceProperty, service) : null;

    public Task RunAsync(CancellationToken cancellationToken) => Task.WhenAll(
        Pods.RunAsync(cancellationToken), Services.RunAsync(cancellationToken), Endpoints.RunAsync(cancellationToken),
        EndpointSlices.RunAsync(cancellationToken), Namespaces.RunAsync(cancellationToken), Nodes.RunAsync(cancellationToken),
        Deployments.RunAsync(cancellationToken), ReplicaSets.RunAsync(cancellationToken),
        ServiceAccounts.RunAsync(cancellationToken), ClusterRoles.RunAsync(cancellationToken));

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => Task.WhenAll(
        Pods.WaitForSyncAsync(cancellationToken), Services.WaitForSyncAsync(cancellationToken), Endpoints.WaitForSyncAsync(cancellationToken),
        EndpointSlices.WaitForSyncAsync(cancellationToken), Namespaces.WaitForSyncAsync(cancellationToken), Nodes.WaitForSyncAsync(cancellationToken),
        Deployments.WaitForSyncAsync(cancellationToken), ReplicaSets.WaitForSyncAsync(cancellationToken),
        ServiceAccounts.WaitForSyncAsync(cancellationToken), ClusterRoles.WaitForSyncAsync(cancellationToken));
}
