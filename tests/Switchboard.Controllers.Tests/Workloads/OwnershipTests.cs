using Switchboard.Testing;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;

namespace Switchboard.Controllers.Tests.Workloads;

/// <summary>Adoption and release by selector (upstream's ControllerRefManager), for pods and for ReplicaSets.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OwnershipTests
{
    private readonly ClusterFixture _cluster;

    public OwnershipTests(ClusterFixture cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    [Fact]
    public async Task A_pod_relabelled_out_of_the_selector_is_released_and_replaced_and_adopted_again_when_it_matches()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "release");
        await s.WaitForReadyPodsAsync(3);
        var rs = Assert.Single(await s.ReplicaSetsAsync());
        string leaving = (await s.PodsAsync()).OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).First().Metadata.Name;

        await s.KubectlAsync("label", "pod", leaving, "role=elsewhere", "--overwrite");

        await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync(leaving, s.Namespace)).Metadata.OwnerReferences is null or { Count: 0 }, $"{leaving} released");
        await s.WaitForReadyPodsAsync(3);
        Assert.DoesNotContain(leaving, (await s.PodsAsync()).Select(p => p.Metadata.Name));

        await s.KubectlAsync("label", "pod", leaving, "role=backend", "--overwrite");

        await Eventually.WaitAsync(async () =>
        {
            var pods = await s.PodsAsync();
            return pods.Count(p => p.Metadata.DeletionTimestamp is null) == 3
                && pods.All(p => p.Metadata.OwnerReferences?.SingleOrDefault(o => o.Controller == true)?.Uid == rs.Metadata.Uid);
        }, "three pods, all controlled by the ReplicaSet, after the orphan matched again");
        var adopted = await Client.CoreV1.ReadNamespacedPodAsync(leaving, s.Namespace);
        Assert.Equal(rs.Metadata.Uid, adopted.Metadata.OwnerReferences.Single().Uid);
        Assert.Equal("ReplicaSet", adopted.Metadata.OwnerReferences.Single().Kind);
    }

    [Fact]
    public async Task A_deployment_created_again_adopts_the_orphaned_replicaset_and_its_pods_without_new_pods()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "adopt");
        await s.WaitForReadyPodsAsync(3);
        var before = Assert.Single(await s.ReplicaSetsAsync());
        var podsBefore = (await s.PodsAsync()).Select(p => p.Metadata.Uid).Order(StringComparer.Ordinal).ToList();
        var spec = (await Client.AppsV1.ReadNamespacedDeploymentAsync("backend", s.Namespace)).Spec;
        await s.KubectlAsync("delete", "deployment", "backend", "--cascade=orphan");
        await Eventually.WaitAsync(async () => (await s.ReplicaSetsAsync()).Single().Metadata.OwnerReferences is null or { Count: 0 }, "the ReplicaSet orphaned");

        var deployment = await Client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment { Metadata = new V1ObjectMeta { Name = "backend" }, Spec = spec }, s.Namespace);

        await Eventually.WaitAsync(async () => (await s.ReplicaSetsAsync()).Single().Metadata.OwnerReferences?.SingleOrDefault()?.Uid == deployment.Metadata.Uid, "the ReplicaSet adopted by the new deployment");
        await s.WaitForReadyPodsAsync(3);
        var after = Assert.Single(await s.ReplicaSetsAsync());
        Assert.Equal(before.Metadata.Uid, after.Metadata.Uid);
        Assert.Equal(podsBefore, (await s.PodsAsync()).Select(p => p.Metadata.Uid).Order(StringComparer.Ordinal).ToList());
    }
}
