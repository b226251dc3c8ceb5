using Switchboard.Testing;
using k8s;
using Switchboard.Controllers.Tests.Fixtures;

namespace Switchboard.Controllers.Tests.Workloads;

/// <summary>Paused deployments, proportional scaling mid-rollout, the progress deadline, and repeated events.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RolloutControlTests
{
    private readonly ClusterFixture _cluster;

    public RolloutControlTests(ClusterFixture cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    [Fact]
    public async Task A_paused_deployment_applies_scale_changes_but_rolls_out_a_new_template_only_when_resumed()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "paused");
        await s.WaitForReadyPodsAsync(3);

        await s.KubectlAsync("rollout", "pause", "deployment/backend");
        await s.KubectlAsync("set", "image", "deployment/backend", "nginx=nginx:1.27");
        await s.KubectlAsync("scale", "deployment", "backend", "--replicas=5");

        // Paused, the new template has no ReplicaSet yet, so the 5 are not "updated" replicas.
        await Eventually.WaitAsync(async () =>
        {
            var pods = await s.PodsAsync();
            var sets = await s.ReplicaSetsAsync();
            return sets.Count == 1 && sets[0].Spec.Replicas == 5 && pods.Count == 5 && pods.All(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        }, "the one ReplicaSet at 5 ready pods");
        Assert.All(await s.PodsAsync(), p => Assert.Equal("nginx", p.Spec.Containers.Single().Image));
        var progressing = (await Client.AppsV1.ReadNamespacedDeploymentAsync("backend", s.Namespace)).Status.Conditions.Single(c => c.Type == "Progressing");
        Assert.Equal(("Unknown", "DeploymentPaused"), (progressing.Status, progressing.Reason));

        await s.KubectlAsync("rollout", "resume", "deployment/backend");
        string status = await s.KubectlAsync("rollout", "status", "deployment/backend", "--timeout=60s");
        Assert.Contains("successfully rolled out", status, StringComparison.Ordinal);
        await s.WaitForReadyPodsAsync(5);
        Assert.All(await s.PodsAsync(), p => Assert.Equal("nginx:1.27", p.Spec.Containers.Single().Image));
    }

    [Fact]
    public async Task A_rollout_whose_pods_cannot_be_placed_exceeds_its_progress_deadline_and_a_scale_meanwhile_is_proportional()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "stuck");
        await s.WaitForReadyPodsAsync(3);
        var old = Assert.Single(await s.ReplicaSetsAsync());

        // maxSurge 1, maxUnavailable 0: one new pod, which no node's labels select, and no old pod may go.
        await s.KubectlAsync("patch", "deployment", "backend", "-p",
            """{"spec":{"progressDeadlineSeconds":2,"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},"template":{"spec":{"nodeSelector":{"disk":"none-such"}}}}}""");

        await Eventually.WaitAsync(async () =>
        {
            var d = await Client.AppsV1.ReadNamespacedDeploymentAsync("backend", s.Namespace);
            return d.Status?.Conditions?.Any(c => c.Type == "Progressing" && c.Status == "False" && c.Reason == "ProgressDeadlineExceeded") == true;
        }, "Progressing=False ProgressDeadlineExceeded");
        var (code, _, stderr) = await _cluster.Server.KubectlAsync("rollout", "status", "deployment/backend", "-n", s.Namespace, "--timeout=30s");
        Assert.NotEqual(0, code);
        Assert.Contains("exceeded its progress deadline", stderr, StringComparison.Ordinal);
        var pending = (await s.PodsAsync()).Single(p => p.Spec.NodeSelector is not null);
        Assert.Null(pending.Spec.NodeName);
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ListNamespacedEventAsync(s.Namespace)).Items.Any(e =>
            e.Reason == "FailedScheduling" && e.InvolvedObject.Name == pending.Metadata.Name && e.Message.Contains("didn't match Pod's node affinity/selector", StringComparison.Ordinal)), "FailedScheduling naming the node selector");

        // replicas 6 allow 6 + 1 surge = 7, 3 more: the old 3 (sized for 4) get round(3 × 7 / 4) = 5, the new 1 the
        // rest, 2, as upstream's proportions; with no pod allowed unavailable the rollout can change neither.
        await s.KubectlAsync("scale", "deployment", "backend", "--replicas=6");

        await Eventually.WaitAsync(async () =>
        {
            var sets = await s.ReplicaSetsAsync();
            return sets.Single(r => r.Metadata.Uid == old.Metadata.Uid).Spec.Replicas == 5 && sets.Single(r => r.Metadata.Uid != old.Metadata.Uid).Spec.Replicas == 2;
        }, "the old ReplicaSet at 5 and the new one at 2");
        string events = await s.KubectlAsync("describe", "deployment", "backend");
        Assert.Contains($"Scaled up replica set {old.Metadata.Name} from 3 to 5", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_repeated_event_is_counted_on_one_event()
    {
        var s = await Scenario.CreateBackendAsync(_cluster, "events");
        await s.WaitForReadyPodsAsync(3);
        string rs = Assert.Single(await s.ReplicaSetsAsync()).Metadata.Name;

        foreach (int replicas in new[] { 1, 3, 1, 3 })
        {
            await s.KubectlAsync("scale", "deployment", "backend", $"--replicas={replicas}");
            await s.WaitForReadyPodsAsync(replicas);
        }

        string message = $"Scaled down replica set {rs} from 3 to 1";
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ListNamespacedEventAsync(s.Namespace)).Items.Any(e => e.Message == message && e.Count == 2), $"one event \"{message}\" with count 2");
        var events = (await Client.CoreV1.ListNamespacedEventAsync(s.Namespace)).Items.Where(e => e.Message == message).ToList();
        var e = Assert.Single(events);
        Assert.True(e.LastTimestamp >= e.FirstTimestamp, $"lastTimestamp {e.LastTimestamp:O} not before firstTimestamp {e.FirstTimestamp:O}");
        Assert.Matches($@"ScalingReplicaSet\s+.*\(x2 over .*\)\s+deployment-controller\s+{message}", await s.KubectlAsync("describe", "deployment", "backend"));
    }
}
