using Switchboard.Testing;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;

namespace Switchboard.Controllers.Tests.Lifecycle;

/// <summary>Garbage collection with owners of kinds the collector has no informer for, and with several owners.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OwnerKindsTests
{
    private readonly ClusterFixture _cluster;

    public OwnerKindsTests(ClusterFixture cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    [Fact]
    public async Task A_pod_loses_only_the_reference_to_a_deleted_owner_and_goes_with_its_last_one()
    {
        string ns = "owners-" + Guid.NewGuid().ToString("N")[..6];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });

        // ConfigMaps: a kind the collector follows through discovery and reads, not through an informer.
        var first = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "first" } }, ns);
        var second = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "second" } }, ns);
        await Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "shared", OwnerReferences = [Reference(first), Reference(second)] },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "nginx" }] },
        }, ns);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("first", ns);

        await Eventually.WaitAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("shared", ns)).Metadata.OwnerReferences?.Count == 1, "the reference to the deleted owner removed");
        var pod = await Client.CoreV1.ReadNamespacedPodAsync("shared", ns);
        Assert.Equal(second.Metadata.Uid, pod.Metadata.OwnerReferences.Single().Uid);
        Assert.Null(pod.Metadata.DeletionTimestamp);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("second", ns);

        await Eventually.WaitAsync(async () => (await Client.CoreV1.ListNamespacedPodAsync(ns)).Items.Count == 0, "the pod collected with its last owner gone");
    }

    private static V1OwnerReference Reference(V1ConfigMap owner) => new() { ApiVersion = "v1", Kind = "ConfigMap", Name = owner.Metadata.Name, Uid = owner.Metadata.Uid };
}
