using Switchboard.Controllers.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Workloads;

[Collection(ClusterCollection.Name)]
public sealed class BackendDeploymentTests
{
    private readonly ClusterFixture _cluster;

    public BackendDeploymentTests(ClusterFixture cluster) => _cluster = cluster;

    [Fact]
    public async Task Backend_yaml_yields_one_replicaset_three_owned_pods_and_three_ready_addresses()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "backend");

        await s.WaitForReadyPodsAsync(3);

        var rs = Assert.Single(await s.ReplicaSetsAsync());
        string hash = rs.Metadata.Labels["pod-template-hash"];
        Assert.Equal($"backend-{hash}", rs.Metadata.Name);
        Assert.Equal("Deployment", rs.Metadata.OwnerReferences.Single().Kind);
        Assert.Equal("1", rs.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        var pods = await s.PodsAsync();
        Assert.All(pods, p =>
        {
            Assert.Matches($"^backend-{hash}-[bcdfghjklmnpqrstvwxz2456789]{{5}}$", p.Metadata.Name);
            Assert.Equal(rs.Metadata.Uid, p.Metadata.OwnerReferences.Single(o => o.Controller == true).Uid);
            Assert.Equal("node-1", p.Spec.NodeName);
        });

        var ips = pods.Select(p => p.Status.PodIP).ToList();
        await s.WaitForAddressesAsync(ips, []);
        string endpoints = await s.KubectlAsync("get", "endpoints", "backend");
        foreach (string ip in ips)
        {
            Assert.Contains($"{ip}:80", endpoints, StringComparison.Ordinal);
        }

        var slice = Assert.Single(await s.SlicesAsync());
        Assert.Equal(3, slice.Endpoints.Count(e => e.Conditions.Ready == true));
        Assert.All(slice.Endpoints, e => Assert.Equal("Pod", e.TargetRef.Kind));
        Assert.Equal(80, Assert.Single(slice.Ports).Port);
        Assert.Equal("Service", slice.Metadata.OwnerReferences.Single().Kind);

        string deploy = await s.KubectlAsync("get", "deploy", "backend");
        Assert.Matches(@"backend\s+3/3\s+3\s+3\s", deploy);
        string status = await s.KubectlAsync("rollout", "status", "deployment/backend", "--timeout=30s");
        Assert.Contains("successfully rolled out", status, StringComparison.Ordinal);
        string describe = await s.KubectlAsync("describe", "deployment", "backend");
        Assert.Matches($@"ScalingReplicaSet\s+.*Scaled up replica set backend-{hash} from 0 to 3", describe);
        Assert.Matches(@"Available\s+True\s+MinimumReplicasAvailable", describe);
        Assert.Matches(@"Progressing\s+True\s+NewReplicaSetAvailable", describe);
        string rsEvents = await s.KubectlAsync("describe", "rs", rs.Metadata.Name);
        Assert.Matches($@"SuccessfulCreate\s+.*Created pod: backend-{hash}-", rsEvents);
    }

    [Fact]
    public async Task Scaling_to_five_then_one_changes_pods_and_addresses_to_match()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "scale");
        await s.WaitForReadyPodsAsync(3);

        await s.KubectlAsync("scale", "deployment", "backend", "--replicas=5");
        await s.WaitForReadyPodsAsync(5);
        await s.WaitForAddressesAsync((await s.PodsAsync()).Select(p => p.Status.PodIP), []);

        await s.KubectlAsync("scale", "deployment", "backend", "--replicas=1");
        await s.WaitForReadyPodsAsync(1);
        await s.WaitForAddressesAsync((await s.PodsAsync()).Select(p => p.Status.PodIP), []);
        Assert.Single(await s.ReplicaSetsAsync());
    }

    [Fact]
    public async Task A_new_image_rolls_out_a_new_replicaset_replacing_every_pod_and_undo_goes_back()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "rollout");
        await s.WaitForReadyPodsAsync(3);
        var before = (await s.PodsAsync()).Select(p => p.Metadata.Name).ToHashSet();

        await s.KubectlAsync("set", "image", "deployment/backend", "nginx=nginx:1.27");
        string status = await s.KubectlAsync("rollout", "status", "deployment/backend", "--timeout=60s");
        Assert.Contains("successfully rolled out", status, StringComparison.Ordinal);
        await s.WaitForReadyPodsAsync(3);

        var after = await s.PodsAsync();
        Assert.All(after, p => Assert.DoesNotContain(p.Metadata.Name, before));
        Assert.All(after, p => Assert.Equal("nginx:1.27", p.Spec.Containers.Single().Image));
        var sets = await s.ReplicaSetsAsync();
        Assert.Equal(2, sets.Count);
        Assert.Equal([0, 3], sets.Select(r => r.Spec.Replicas ?? 0).Order());
        await s.WaitForAddressesAsync(after.Select(p => p.Status.PodIP), []);

        string history = await s.KubectlAsync("rollout", "history", "deployment/backend");
        Assert.Matches(@"(?m)^1\s", history);
        Assert.Matches(@"(?m)^2\s", history);

        await s.KubectlAsync("rollout", "undo", "deployment/backend");
        await s.KubectlAsync("rollout", "status", "deployment/backend", "--timeout=60s");
        await s.WaitForReadyPodsAsync(3);
        Assert.All(await s.PodsAsync(), p => Assert.Equal("nginx", p.Spec.Containers.Single().Image));
        var undone = await s.ReplicaSetsAsync();
        Assert.Equal(2, undone.Count);
        Assert.Equal("3", undone.Single(r => r.Spec.Replicas == 3).Metadata.Annotations["deployment.kubernetes.io/revision"]);
    }

    [Fact]
    public async Task Old_replicasets_beyond_revisionHistoryLimit_are_deleted()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "history");
        await s.KubectlAsync("patch", "deployment", "backend", "-p", "{\"spec\":{\"revisionHistoryLimit\":1,\"replicas\":1}}");
        await s.WaitForReadyPodsAsync(1);

        foreach (string tag in new[] { "1.25", "1.26", "1.27" })
        {
            await s.KubectlAsync("set", "image", "deployment/backend", $"nginx=nginx:{tag}");
            await s.KubectlAsync("rollout", "status", "deployment/backend", "--timeout=60s");
        }

        await Eventually.WaitAsync(async () => (await s.ReplicaSetsAsync()).Count == 2, "the current ReplicaSet and one old one");
        var images = (await s.ReplicaSetsAsync()).Select(r => r.Spec.Template.Spec.Containers.Single().Image).Order().ToList();
        Assert.Equal(["nginx:1.26", "nginx:1.27"], images);
    }

    [Fact]
    public async Task Stopping_the_controllers_mid_scale_and_starting_them_again_converges_to_the_exact_count()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "restart");
        await s.WaitForReadyPodsAsync(3);

        await s.KubectlAsync("scale", "deployment", "backend", "--replicas=12");
        await Eventually.WaitAsync(async () => (await s.PodsAsync()).Count > 3, "the scale-up under way");
        await _cluster.StopControllersAsync();
        int whileStopped = (await s.PodsAsync()).Count;
        await _cluster.StartControllersAsync();

        await s.WaitForReadyPodsAsync(12);
        var rs = Assert.Single(await s.ReplicaSetsAsync());
        Assert.Equal(12, rs.Status.Replicas);
        Assert.Equal(12, (await s.PodsAsync()).Count);
        Assert.True(whileStopped <= 12, $"{whileStopped} pods while stopped");
    }

}
