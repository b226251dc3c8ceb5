using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Workloads;

/// <summary>
/// Jobs through kubectl, the test playing the kubelet that ends each pod: completions and parallelism, Indexed
/// completion, backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished, counting across a controller restart.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class JobTests
{
    private readonly ClusterFixture _cluster;

    public JobTests(ClusterFixture cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    private static string Job(string name, string spec) => $$"""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {{name}}
        spec:
        {{spec}}
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: main
                image: busybox
                command: ["true"]
        """;

    private static bool Running(V1Pod pod) => pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase == "Running";

    private async Task<V1Job> ReadAsync(WorkloadNamespace ns, string name) => await Client.BatchV1.ReadNamespacedJobAsync(name, ns.Name);

    private static bool Has(V1Job job, string type, string? reason = null) =>
        job.Status?.Conditions?.Any(c => c.Type == type && c.Status == "True" && (reason is null || c.Reason == reason)) == true;

    [Fact]
    public async Task Three_completions_two_at_a_time_complete_with_exactly_three_pods()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "job-par");
        await ns.ApplyAsync(Job("work", "  completions: 3\n  parallelism: 2"));

        int finished = 0;
        while (finished < 3)
        {
            await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Any(Running), "a running pod of the job");
            var pods = await ns.PodsAsync();
            Assert.True(pods.Count(Running) <= 2, $"at most parallelism 2 pods run at once: {string.Join(", ", pods.Where(Running).Select(p => p.Metadata.Name))}");
            var next = pods.First(Running);
            Assert.Equal("work", next.Metadata.Labels["batch.kubernetes.io/job-name"]);
            await ns.FinishPodAsync(next.Metadata.Name, succeeded: true);
            finished++;
        }

        await ns.KubectlAsync("wait", "--for=condition=complete", "job/work", "--timeout=30s");
        var job = await ReadAsync(ns, "work");
        Assert.True(Has(job, "Complete", "CompletionsReached"));
        Assert.Equal((3, 0), (job.Status.Succeeded, job.Status.Active ?? 0));
        Assert.NotNull(job.Status.CompletionTime);
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).All(p => p.Metadata.Finalizers is null or { Count: 0 }), "the tracking finalizers removed once counted");
        Assert.Equal(3, (await ns.PodsAsync()).Count);
        string table = await ns.KubectlAsync("get", "jobs");
        Assert.Matches(@"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s*\nwork\s+Complete\s+3/3\s+\S+\s+\S+", table);
    }

    [Fact]
    public async Task An_indexed_job_runs_one_pod_per_index_and_records_completed_indexes()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "job-idx");
        await ns.ApplyAsync(Job("shard", "  completions: 3\n  parallelism: 3\n  completionMode: Indexed"));
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count(Running) == 3, "three running pods");

        var pods = await ns.PodsAsync();
        var byIndex = pods.ToDictionary(p => p.Metadata.Annotations["batch.kubernetes.io/job-completion-index"]);
        Assert.Equal(["0", "1", "2"], byIndex.Keys.Order(StringComparer.Ordinal));
        foreach (var (index, pod) in byIndex)
        {
            Assert.StartsWith($"shard-{index}-", pod.Metadata.Name, StringComparison.Ordinal);
            Assert.Equal($"shard-{index}", pod.Spec.Hostname);
            var env = Assert.Single(pod.Spec.Containers.Single().Env, e => e.Name == "JOB_COMPLETION_INDEX");
            Assert.Equal("metadata.annotations['batch.kubernetes.io/job-completion-index']", env.ValueFrom.FieldRef.FieldPath);
        }

        await ns.FinishPodAsync(byIndex["1"].Metadata.Name, succeeded: true);
        await Eventually.WaitAsync(async () => (await ReadAsync(ns, "shard")).Status?.CompletedIndexes == "1", "completedIndexes 1");
        await ns.FinishPodAsync(byIndex["0"].Metadata.Name, succeeded: true);
        await ns.FinishPodAsync(byIndex["2"].Metadata.Name, succeeded: true);
        await Eventually.WaitAsync(async () => Has(await ReadAsync(ns, "shard"), "Complete"), "the indexed job complete");
        var job = await ReadAsync(ns, "shard");
        Assert.Equal(("0-2", 3), (job.Status.CompletedIndexes, job.Status.Succeeded ?? 0));
    }

    [Fact]
    public async Task A_job_past_its_backoff_limit_fails_and_its_running_pods_are_deleted()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "job-fail");
        await ns.ApplyAsync(Job("flaky", "  completions: 2\n  parallelism: 2\n  backoffLimit: 0"));
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count(Running) == 2, "two running pods");

        await ns.FinishPodAsync((await ns.PodsAsync())[0].Metadata.Name, succeeded: false);
        await Eventually.WaitAsync(async () => Has(await ReadAsync(ns, "flaky"), "Failed", "BackoffLimitExceeded"), "Failed with BackoffLimitExceeded");
        var job = await ReadAsync(ns, "flaky");
        Assert.True(Has(job, "FailureTarget", "BackoffLimitExceeded"));
        Assert.Equal("Job has reached the specified backoff limit", job.Status.Conditions.Single(c => c.Type == "Failed").Message);
        await Eventually.WaitAsync(async () => !(await ns.PodsAsync()).Any(Running), "the other pod deleted");
        await Eventually.WaitAsync(async () => (await ReadAsync(ns, "flaky")).Status?.Failed == 2, "both pods counted failed: the one that failed and the one deleted");
        Assert.Matches(@"flaky\s+Failed\s+0/2", await ns.KubectlAsync("get", "jobs"));
    }

    [Fact]
    public async Task A_job_past_its_active_deadline_fails_with_DeadlineExceeded()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "job-deadline");
        await ns.ApplyAsync(Job("slow", "  activeDeadlineSeconds: 1"));
        await Eventually.WaitAsync(async () => Has(await ReadAsync(ns, "slow"), "Failed", "DeadlineExceeded"), "Failed with DeadlineExceeded");
        Assert.Equal("Job was active longer than specified deadline", (await ReadAsync(ns, "slow")).Status.Conditions.Single(c => c.Type == "Failed").Message);
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count == 0, "its pod deleted");
    }

    [Fact]
    public async Task A_finished_job_with_a_ttl_is_deleted_with_its_pods()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "job-ttl");
        await ns.ApplyAsync(Job("once", "  ttlSecondsAfterFinished: 0"));
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Any(Running), "its pod running");
        await ns.FinishPodAsync((await ns.PodsAsync()).Single().Metadata.Name, succeeded: true);
        await Eventually.WaitAsync(async () => (await Client.BatchV1.ListNamespacedJobAsync(ns.Name)).Items.Count == 0, "the job deleted");
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count == 0, "its pod deleted with it");
    }

    [Fact]
    public async Task Counting_survives_a_controller_restart_without_losing_or_repeating_a_pod()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "job-restart");
        await ns.ApplyAsync(Job("count", "  completions: 4\n  parallelism: 2"));
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count(Running) == 2, "two running pods");
        foreach (var pod in await ns.PodsAsync())
        {
            await ns.FinishPodAsync(pod.Metadata.Name, succeeded: true);
        }

        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count(Running) == 2 && (await ReadAsync(ns, "count")).Status?.Succeeded == 2, "two counted, two more running");

        // The last two finish while no controller runs; the new one counts them once from their finalizers.
        await _cluster.StopControllersAsync();
        try
        {
            foreach (var pod in (await ns.PodsAsync()).Where(Running))
            {
                await ns.FinishPodAsync(pod.Metadata.Name, succeeded: true);
            }
        }
        finally
        {
            await _cluster.StartControllersAsync();
        }

        await Eventually.WaitAsync(async () => Has(await ReadAsync(ns, "count"), "Complete"), "the job complete after the restart");
        var job = await ReadAsync(ns, "count");
        Assert.Equal(4, job.Status.Succeeded);
        Assert.Equal(4, (await ns.PodsAsync()).Count);
    }

    [Fact]
    public async Task Kubectl_creates_a_job_from_a_cronjob_and_lists_cronjobs()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster, "job-from");
        await ns.ApplyAsync("""
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: nightly
            spec:
              schedule: "0 3 1 1 *"
              timeZone: Europe/Paris
              jobTemplate:
                spec:
                  template:
                    spec:
                      restartPolicy: OnFailure
                      containers:
                      - name: main
                        image: busybox
            """);
        await ns.KubectlAsync("create", "job", "manual", "--from=cronjob/nightly");
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Any(Running), "the manual job's pod running");
        var job = await ReadAsync(ns, "manual");
        Assert.Equal("nightly", job.Metadata.OwnerReferences.Single().Name);

        string table = await ns.KubectlAsync("get", "cronjobs");
        Assert.Matches(@"NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\s*\nnightly\s+0 3 1 1 \*\s+Europe/Paris\s+False\s+0\s+<none>\s+\S+", table);
        string all = await ns.KubectlAsync("get", "all");
        Assert.Contains("cronjob.batch/nightly", all, StringComparison.Ordinal);
        Assert.Contains("job.batch/manual", all, StringComparison.Ordinal);

        var (code, _, stderr) = await ns.KubectlTryAsync("create", "cronjob", "bad", "--image=busybox", "--schedule=61 * * * *");
        Assert.NotEqual(0, code);
        Assert.Contains("spec.schedule: Invalid value: \"61 * * * *\"", stderr, StringComparison.Ordinal);
    }
}
