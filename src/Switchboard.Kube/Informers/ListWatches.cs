using k8s;
using k8s.Models;

namespace Switchboard.Kube.Informers;

/// <summary>List+watch over all namespaces for the kinds Switchboard's components follow.</summary>
public static class ListWatches
{
    public static ListWatch<V1Pod> Pods(IKubernetes client, string? fieldSelector = null) => Make<V1Pod, V1PodList>(
        ct => client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: fieldSelector, cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: fieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Service> Services(IKubernetes client) => Make<V1Service, V1ServiceList>(
        ct => client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Endpoints> Endpoints(IKubernetes client) => Make<V1Endpoints, V1EndpointsList>(
        ct => client.CoreV1.ListEndpointsForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoreV1.WatchListEndpointsForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1EndpointSlice> EndpointSlices(IKubernetes client) => Make<V1EndpointSlice, V1EndpointSliceList>(
        ct => client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.DiscoveryV1.WatchListEndpointSliceForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Namespace> Namespaces(IKubernetes client) => Make<V1Namespace, V1NamespaceList>(
        ct => client.CoreV1.ListNamespaceAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoreV1.WatchListNamespaceAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Node> Nodes(IKubernetes client) => Make<V1Node, V1NodeList>(
        ct => client.CoreV1.ListNodeAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoreV1.WatchListNodeAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Deployment> Deployments(IKubernetes client) => Make<V1Deployment, V1DeploymentList>(
        ct => client.AppsV1.ListDeploymentForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.AppsV1.WatchListDeploymentForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ReplicaSet> ReplicaSets(IKubernetes client) => Make<V1ReplicaSet, V1ReplicaSetList>(
        ct => client.AppsV1.ListReplicaSetForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.AppsV1.WatchListReplicaSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1PodDisruptionBudget> PodDisruptionBudgets(IKubernetes client) => Make<V1PodDisruptionBudget, V1PodDisruptionBudgetList>(
        ct => client.PolicyV1.ListPodDisruptionBudgetForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.PolicyV1.WatchListPodDisruptionBudgetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ConfigMap> ConfigMaps(IKubernetes client, string? fieldSelector = null) => Make<V1ConfigMap, V1ConfigMapList>(
        ct => client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: fieldSelector, cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoreV1.WatchListConfigMapForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: fieldSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Secret> Secrets(IKubernetes client) => Make<V1Secret, V1SecretList>(
        ct => client.CoreV1.ListSecretForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoreV1.WatchListSecretForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ServiceAccount> ServiceAccounts(IKubernetes client) => Make<V1ServiceAccount, V1ServiceAccountList>(
        ct => client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ClusterRole> ClusterRoles(IKubernetes client) => Make<V1ClusterRole, V1ClusterRoleList>(
        ct => client.RbacAuthorizationV1.ListClusterRoleAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.RbacAuthorizationV1.WatchListClusterRoleAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1StatefulSet> StatefulSets(IKubernetes client) => Make<V1StatefulSet, V1StatefulSetList>(
        ct => client.AppsV1.ListStatefulSetForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.AppsV1.WatchListStatefulSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1DaemonSet> DaemonSets(IKubernetes client) => Make<V1DaemonSet, V1DaemonSetList>(
        ct => client.AppsV1.ListDaemonSetForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.AppsV1.WatchListDaemonSetForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1ControllerRevision> ControllerRevisions(IKubernetes client) => Make<V1ControllerRevision, V1ControllerRevisionList>(
        ct => client.AppsV1.ListControllerRevisionForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.AppsV1.WatchListControllerRevisionForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1Job> Jobs(IKubernetes client) => Make<V1Job, V1JobList>(
        ct => client.BatchV1.ListJobForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.BatchV1.WatchListJobForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static ListWatch<V1CronJob> CronJobs(IKubernetes client) => Make<V1CronJob, V1CronJobList>(
        ct => client.BatchV1.ListCronJobForAllNamespacesAsync(cancellationToken: ct),
        (rv, timeout, onError, ct) => client.BatchV1.WatchListCronJobForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    /// <summary>The Leases of namespace <paramref name="namespace"/> (the nodes' heartbeats in <c>kube-node-lease</c>).</summary>
    public static ListWatch<V1Lease> Leases(IKubernetes client, string @namespace) => Make<V1Lease, V1LeaseList>(
        ct => client.CoordinationV1.ListNamespacedLeaseAsync(@namespace, cancellationToken: ct),
        (rv, timeout, onError, ct) => client.CoordinationV1.WatchListNamespacedLeaseAsync(@namespace, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    private static ListWatch<T> Make<T, TList>(
        Func<CancellationToken, Task<TList>> list,
        Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch)
        where T : IKubernetesObject<V1ObjectMeta>
        where TList : IMetadata<V1ListMeta>, IItems<T> =>
        new(async ct =>
        {
            var result = await list(ct);
            return new ListPage<T>([.. result.Items], result.Metadata?.ResourceVersion ?? "");
        }, watch);
}
