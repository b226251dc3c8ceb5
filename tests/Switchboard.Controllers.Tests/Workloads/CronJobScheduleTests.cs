using System.Globalization;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Workloads;

/// <summary>The CronJob controller on a fake clock: runs at the scheduled wall time of its time zone, Forbid, Replace, suspend and the history limit.</summary>
public sealed class CronJobScheduleTests : IClassFixture<FakeClockCluster>
{
    private readonly FakeClockCluster _cluster;

    public CronJobScheduleTests(FakeClockCluster cluster) => _cluster = cluster;

    private IKubernetes Client => _cluster.Client;

    private async Task<List<V1Job>> JobsAsync(WorkloadNamespace ns) =>
        [.. (await Client.BatchV1.ListNamespacedJobAsync(ns.Name)).Items.Where(j => j.Metadata.DeletionTimestamp is null).OrderBy(j => j.Metadata.Name, StringComparer.Ordinal)];

    private async Task<V1CronJob> CronJobAsync(WorkloadNamespace ns) => await Client.BatchV1.ReadNamespacedCronJobAsync("hourly", ns.Name);

    [Fact]
    public async Task An_hourly_schedule_in_Kolkata_fires_at_half_past_UTC_and_honours_the_concurrency_policy_and_suspend()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster.Server, "cron");
        await ns.ApplyAsync("""
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: hourly
            spec:
              schedule: "@hourly"
              timeZone: Asia/Kolkata
              concurrencyPolicy: Forbid
              successfulJobsHistoryLimit: 1
              jobTemplate:
                metadata:
                  labels:
                    run: hourly
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                      - name: main
                        image: busybox
            """);

        // Kolkata is UTC+05:30 all year: its o'clock is half past the hour in UTC.
        var now = _cluster.Clock.GetUtcNow();
        var first = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 30, 0, TimeSpan.Zero);
        if (first <= now)
        {
            first = first.AddHours(1);
        }

        _cluster.Clock.SetUtcNow(first - TimeSpan.FromSeconds(1));
        Assert.Empty(await JobsAsync(ns));
        _cluster.Clock.SetUtcNow(first + TimeSpan.FromSeconds(1));
        await Eventually.WaitAsync(async () => (await JobsAsync(ns)).Count == 1, "the first run's Job");
        var job = (await JobsAsync(ns)).Single();
        Assert.Equal("hourly-" + (first.ToUnixTimeSeconds() / 60).ToString(CultureInfo.InvariantCulture), job.Metadata.Name);
        string kolkata = first.ToOffset(TimeSpan.FromMinutes(330)).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + "+05:30";
        Assert.Equal(kolkata, job.Metadata.Annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]);
        Assert.Equal("hourly", job.Metadata.Labels["run"]);
        Assert.Equal(("CronJob", "hourly"), (job.Metadata.OwnerReferences.Single().Kind, job.Metadata.OwnerReferences.Single().Name));
        await Eventually.WaitAsync(async () => (await CronJobAsync(ns)).Status?.Active?.SingleOrDefault()?.Name == job.Metadata.Name, "the Job in status.active");
        Assert.Equal(first.UtcDateTime, (await CronJobAsync(ns)).Status.LastScheduleTime);

        // Forbid: the first Job still runs an hour later, so no second one starts.
        _cluster.Clock.Advance(TimeSpan.FromHours(1));
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ListNamespacedEventAsync(ns.Name)).Items.Any(e => e.Reason == "JobAlreadyActive"), "the JobAlreadyActive event");
        Assert.Single(await JobsAsync(ns));

        // Replace: the running Job is deleted and the next run's made.
        await ns.KubectlAsync("patch", "cronjob", "hourly", "-p", """{"spec":{"concurrencyPolicy":"Replace"}}""");
        var second = first.AddHours(2);
        _cluster.Clock.SetUtcNow(second + TimeSpan.FromSeconds(1));
        await Eventually.WaitAsync(async () => (await JobsAsync(ns)).Select(j => j.Metadata.Name).SequenceEqual(["hourly-" + (second.ToUnixTimeSeconds() / 60).ToString(CultureInfo.InvariantCulture)]), "only the replacing Job");

        // Suspended, nothing runs; resumed, the most recent missed time runs once.
        await ns.KubectlAsync("patch", "cronjob", "hourly", "-p", """{"spec":{"suspend":true,"concurrencyPolicy":"Allow"}}""");
        await Eventually.WaitAsync(async () => (await ns.KubectlAsync("get", "cronjob", "hourly")).Contains("True", StringComparison.Ordinal), "SUSPEND True in the table");
        _cluster.Clock.SetUtcNow(second.AddHours(2) + TimeSpan.FromMinutes(10));
        Assert.Single(await JobsAsync(ns));
        await ns.KubectlAsync("patch", "cronjob", "hourly", "-p", """{"spec":{"suspend":false}}""");
        var missed = second.AddHours(2);
        await Eventually.WaitAsync(async () => (await JobsAsync(ns)).Any(j => j.Metadata.Name == "hourly-" + (missed.ToUnixTimeSeconds() / 60).ToString(CultureInfo.InvariantCulture)), "the most recent missed run after resuming");
        Assert.Equal(2, (await JobsAsync(ns)).Count);

        // Finished Jobs beyond successfulJobsHistoryLimit 1 are deleted, oldest first.
        static bool Running(V1Pod pod) => pod.Status?.Phase == "Running" && pod.Metadata.DeletionTimestamp is null;
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count(Running) == 2, "the pods of both Jobs running");
        foreach (var pod in (await ns.PodsAsync()).Where(Running))
        {
            await ns.FinishPodAsync(pod.Metadata.Name, succeeded: true, at: _cluster.Clock.GetUtcNow());
        }

        await Eventually.WaitAsync(async () => (await JobsAsync(ns)).Count == 1 && (await CronJobAsync(ns)).Status?.Active is null or { Count: 0 }, "one finished Job kept, none active");
        Assert.Equal("hourly-" + (missed.ToUnixTimeSeconds() / 60).ToString(CultureInfo.InvariantCulture), (await JobsAsync(ns)).Single().Metadata.Name);
        Assert.NotNull((await CronJobAsync(ns)).Status.LastSuccessfulTime);
    }

    [Fact]
    public async Task A_failed_pod_is_replaced_only_after_the_backoff()
    {
        var ns = await WorkloadNamespace.CreateAsync(_cluster.Server, "backoff");
        await ns.ApplyAsync("""
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: retry
            spec:
              backoffLimit: 3
              template:
                spec:
                  restartPolicy: Never
                  containers:
                  - name: main
                    image: busybox
            """);
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count(p => p.Status?.Phase == "Running") == 1, "the first pod running");
        var first = (await ns.PodsAsync()).Single();
        await ns.FinishPodAsync(first.Metadata.Name, succeeded: false, at: _cluster.Clock.GetUtcNow());

        // Counted as failed (the controller has seen it) but not replaced: the first backoff is 10 s of the controller's clock.
        await Eventually.WaitAsync(async () => (await Client.BatchV1.ReadNamespacedJobAsync("retry", ns.Name)).Status?.Failed == 1, "one failure counted");
        Assert.Single(await ns.PodsAsync());
        _cluster.Clock.Advance(TimeSpan.FromSeconds(11));
        await Eventually.WaitAsync(async () => (await ns.PodsAsync()).Count == 2, "the replacement after the backoff");
    }
}
