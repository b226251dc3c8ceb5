using Switchboard.Testing;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;

namespace Switchboard.Controllers.Tests.Lifecycle;

[Collection(ClusterCollection.Name)]
public sealed class LifecycleTests
{
    private readonly ClusterFixture _cluster;

    public LifecycleTests(ClusterFixture cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    [Fact]
    public async Task Deleting_the_deployment_removes_its_replicaset_and_pods()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "delete");
        await s.WaitForReadyPodsAsync(3);

        await s.KubectlAsync("delete", "deployment", "backend");

        await Eventually.WaitAsync(async () => (await s.PodsAsync()).Count == 0 && (await s.ReplicaSetsAsync()).Count == 0, "no pods and no replicasets left");
        await s.WaitForAddressesAsync([], []);
    }

    [Fact]
    public async Task Foreground_deletion_removes_the_pods_before_the_deployment()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "foreground");
        await s.WaitForReadyPodsAsync(3);

        await s.KubectlAsync("delete", "deployment", "backend", "--cascade=foreground");

        Assert.Empty(await s.PodsAsync());
        Assert.Empty(await s.ReplicaSetsAsync());
        Assert.Empty((await Client.AppsV1.ListNamespacedDeploymentAsync(s.Namespace)).Items);
    }

    [Fact]
    public async Task Orphan_deletion_keeps_the_replicaset_and_pods_without_the_owner_reference()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "orphan");
        await s.WaitForReadyPodsAsync(3);

        await s.KubectlAsync("delete", "deployment", "backend", "--cascade=orphan");

        await Eventually.WaitAsync(async () => (await Client.AppsV1.ListNamespacedDeploymentAsync(s.Namespace)).Items.Count == 0, "the deployment gone");
        var rs = Assert.Single(await s.ReplicaSetsAsync());
        Assert.True(rs.Metadata.OwnerReferences is null or { Count: 0 });
        Assert.Equal(3, (await s.PodsAsync()).Count);
    }

    [Fact]
    public async Task Deleting_the_namespace_empties_it_and_then_removes_it()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "nsdel");
        await s.WaitForReadyPodsAsync(3);

        await _cluster.Server.KubectlOkAsync("delete", "namespace", s.Namespace, "--timeout=60s");

        var (code, _, stderr) = await _cluster.Server.KubectlAsync("get", "namespace", s.Namespace);
        Assert.NotEqual(0, code);
        Assert.Contains("NotFound", stderr, StringComparison.Ordinal);
        Assert.Empty((await Client.CoreV1.ListNamespacedPodAsync(s.Namespace)).Items);
        Assert.Empty((await Client.CoreV1.ListNamespacedServiceAsync(s.Namespace)).Items);
    }

    [Fact]
    public async Task Without_a_schedulable_node_pods_stay_pending_with_PodScheduled_false_and_an_event()
    {
        await _cluster.Server.KubectlOkAsync("cordon", "node-1");
        try
        {
            string ns = "pending-" + Guid.NewGuid().ToString("N")[..6];
            await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
            await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = new V1ObjectMeta { Name = "waiting" }, Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "nginx" }] } }, ns);

            await Eventually.WaitAsync(async () =>
            {
                var pod = await Client.CoreV1.ReadNamespacedPodAsync("waiting", ns);
                return pod.Status.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable") == true;
            }, "PodScheduled=False Unschedulable");
            await Eventually.WaitAsync(async () => (await Client.CoreV1.ListNamespacedEventAsync(ns)).Items.Any(e => e.Reason == "FailedScheduling" && e.Type == "Warning"), "a FailedScheduling event");
            var pending = await Client.CoreV1.ReadNamespacedPodAsync("waiting", ns);
            Assert.Null(pending.Spec.NodeName);
            Assert.Equal("Pending", pending.Status.Phase);

            await _cluster.Server.KubectlOkAsync("uncordon", "node-1");
            await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("waiting", ns)).Spec.NodeName == "node-1", "the pod bound once the node is schedulable");
        }
        finally
        {
            await _cluster.Server.KubectlAsync("uncordon", "node-1");
        }
    }
}
