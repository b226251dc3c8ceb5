using Switchboard.Testing;
using k8s;
using k8s.Models;

namespace Switchboard.Controllers.Tests.Fixtures;

/// <summary>One test's namespace with examples/backend.yaml created in it by kubectl, and what tests ask of it.</summary>
public sealed class Scenario
{
    private readonly ClusterFixture _cluster;

    private Scenario(ClusterFixture cluster, string ns)
    {
        _cluster = cluster;
        Namespace = ns;
    }

    public string Namespace { get; }

    private IKubernetes Client => _cluster.Client;

    public static async Task<Scenario> CreateBackendAsync(ClusterFixture cluster, string prefix)
    {
        var scenario = new Scenario(cluster, prefix + "-" + Guid.NewGuid().ToString("N")[..6]);
        await cluster.Server.KubectlOkAsync("create", "namespace", scenario.Namespace);
        await cluster.Server.KubectlOkAsync("create", "-f", InProcessApiServer.ExampleFile("backend.yaml"), "-n", scenario.Namespace);
        return scenario;
    }

    public Task<string> KubectlAsync(params string[] args) => _cluster.Server.KubectlOkAsync([.. args, "-n", Namespace]);

    public async Task<IList<V1Pod>> PodsAsync() =>
        (await Client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: "app=critical-app,role=backend")).Items;

    public async Task<IList<V1ReplicaSet>> ReplicaSetsAsync() => (await Client.AppsV1.ListNamespacedReplicaSetAsync(Namespace)).Items;

    public async Task<V1Endpoints?> EndpointsAsync()
    {
        var list = await Client.CoreV1.ListNamespacedEndpointsAsync(Namespace, fieldSelector: "metadata.name=backend");
        return list.Items.SingleOrDefault();
    }

    public async Task<IList<V1EndpointSlice>> SlicesAsync() =>
        (await Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(Namespace, labelSelector: "kubernetes.io/service-name=backend")).Items;

    /// <summary>Waits until the deployment has exactly <paramref name="count"/> pods, all Running and Ready, and reports them.</summary>
    public async Task WaitForReadyPodsAsync(int count)
    {
        await Eventually.WaitAsync(async () =>
        {
            var pods = await PodsAsync();
            return pods.Count == count && pods.All(p => p.Metadata.DeletionTimestamp is null && p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        }, $"{count} ready pods in {Namespace}");
        var d = await Client.AppsV1.ReadNamespacedDeploymentAsync("backend", Namespace);
        await Eventually.WaitAsync(async () =>
        {
            d = await Client.AppsV1.ReadNamespacedDeploymentAsync("backend", Namespace);
            return d.Status?.ObservedGeneration == d.Metadata.Generation && d.Status?.ReadyReplicas == count && d.Status?.UpdatedReplicas == count && d.Status?.Replicas == count;
        }, $"deployment status {count}/{count} in {Namespace}");
    }

    /// <summary>Waits until Endpoints and EndpointSlices list exactly the given ready and not-ready pod IPs.</summary>
    public Task WaitForAddressesAsync(IEnumerable<string> ready, IEnumerable<string> notReady)
    {
        var wantReady = ready.Order(StringComparer.Ordinal).ToList();
        var wantNotReady = notReady.Order(StringComparer.Ordinal).ToList();
        return Eventually.WaitAsync(async () =>
        {
            var ep = await EndpointsAsync();
            var epReady = ep?.Subsets?.SelectMany(s => s.Addresses ?? []).Select(a => a.Ip).Order(StringComparer.Ordinal).ToList() ?? [];
            var epNotReady = ep?.Subsets?.SelectMany(s => s.NotReadyAddresses ?? []).Select(a => a.Ip).Order(StringComparer.Ordinal).ToList() ?? [];
            var endpoints = (await SlicesAsync()).SelectMany(s => s.Endpoints ?? []).ToList();
            var sliceReady = endpoints.Where(e => e.Conditions?.Ready == true).SelectMany(e => e.Addresses).Order(StringComparer.Ordinal).ToList();
            var sliceNotReady = endpoints.Where(e => e.Conditions?.Ready != true).SelectMany(e => e.Addresses).Order(StringComparer.Ordinal).ToList();
            return epReady.SequenceEqual(wantReady) && epNotReady.SequenceEqual(wantNotReady) && sliceReady.SequenceEqual(wantReady) && sliceNotReady.SequenceEqual(wantNotReady);
        }, $"endpoints of backend: ready [{string.Join(",", wantReady)}], not ready [{string.Join(",", wantNotReady)}]");
    }
}
