using System.Text.RegularExpressions;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// StatefulSets, Jobs, DaemonSets and CronJobs on one <c>switchboard up</c> with its real node, driven by kubectl:
/// stateful pods resolving each other by name through the cluster DNS, a Job's pods running to completion, a daemon
/// pod on every node, and a CronJob firing on a one-minute schedule.
/// </summary>
public sealed class WorkloadTests(UpCluster cluster) : IClassFixture<UpCluster>
{
    private Kubectl Kubectl => cluster.Up.Kubectl;

    private async Task<string> ApplyAsync(string ns, string yaml)
    {
        using var dir = new TempDirectory();
        string file = dir.File("manifest.yaml");
        await File.WriteAllTextAsync(file, yaml);
        return await Kubectl.OutputAsync("apply", "-f", file, "-n", ns);
    }

    [Fact]
    public async Task StatefulSet_pods_resolve_each_other_by_name_through_the_headless_service()
    {
        await Kubectl.OutputAsync("create", "namespace", "web");
        await Kubectl.OutputAsync("apply", "-f", SharedFiles.Example("web-statefulset.yaml"), "-n", "web");
        await Kubectl.OutputAsync("rollout", "status", "statefulset/web", "-n", "web", "--timeout=180s");

        string[] ips = (await Kubectl.OutputAsync("get", "pods", "web-0", "web-1", "-n", "web", "-o", "jsonpath={.items[*].status.podIP}")).Split(' ');
        Assert.Equal(2, ips.Length);

        // web-0 finds web-1 by its short name (the search path adds web.svc.cluster.local), and the other way round by its full name.
        await Eventually.WaitAsync(async () =>
        {
            var (code, output, _) = await Kubectl.RunAsync("exec", "web-0", "-n", "web", "--", "getent", "hosts", "web-1.nginx");
            return code == 0 && Regex.IsMatch(output, $@"^{Regex.Escape(ips[1])}\s+web-1\.nginx\.web\.svc\.cluster\.local", RegexOptions.Multiline);
        }, "web-0 resolving web-1.nginx to web-1's address", TimeSpan.FromSeconds(60));
        string back = await Kubectl.OutputAsync("exec", "web-1", "-n", "web", "--", "getent", "hosts", "web-0.nginx.web.svc.cluster.local");
        Assert.Matches($@"^{Regex.Escape(ips[0])}\s+web-0\.nginx\.web\.svc\.cluster\.local", back);

        // Each pod's own hostname is its stable name.
        Assert.Equal("web-1", (await Kubectl.OutputAsync("exec", "web-1", "-n", "web", "--", "hostname")).Trim());
    }

    [Fact]
    public async Task A_job_of_three_completions_two_at_a_time_completes_and_a_daemon_pod_runs_on_every_node()
    {
        await Kubectl.OutputAsync("create", "namespace", "batch");
        await ApplyAsync("batch", """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: count
            spec:
              completions: 3
              parallelism: 2
              completionMode: Indexed
              template:
                spec:
                  restartPolicy: Never
                  containers:
                  - name: main
                    image: busybox
                    command: ["sh", "-c", "echo index $JOB_COMPLETION_INDEX done"]
            ---
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: agent
            spec:
              selector:
                matchLabels:
                  app: agent
              template:
                metadata:
                  labels:
                    app: agent
                spec:
                  containers:
                  - name: agent
                    image: busybox
                    command: ["sleep", "3600"]
            """);

        await Kubectl.OutputAsync("wait", "--for=condition=complete", "job/count", "-n", "batch", "--timeout=180s");
        Assert.Equal("3 0-2", await Kubectl.OutputAsync("get", "job", "count", "-n", "batch", "-o", "jsonpath={.status.succeeded} {.status.completedIndexes}"));
        string[] pods = (await Kubectl.OutputAsync("get", "pods", "-n", "batch", "-l", "batch.kubernetes.io/job-name=count", "-o", "jsonpath={.items[*].metadata.name}")).Split(' ');
        Assert.Equal(3, pods.Length);
        var logs = new List<string>();
        foreach (string pod in pods)
        {
            logs.Add((await Kubectl.OutputAsync("logs", pod, "-n", "batch")).Trim());
        }

        Assert.Equal(["index 0 done", "index 1 done", "index 2 done"], logs.Order(StringComparer.Ordinal));

        await Kubectl.OutputAsync("rollout", "status", "daemonset/agent", "-n", "batch", "--timeout=180s");
        string[] nodes = (await Kubectl.OutputAsync("get", "nodes", "-o", "jsonpath={.items[*].metadata.name}")).Split(' ');
        string[] placed = (await Kubectl.OutputAsync("get", "pods", "-n", "batch", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.nodeName}")).Split(' ');
        Assert.Equal(nodes.Order(StringComparer.Ordinal), placed.Order(StringComparer.Ordinal));
        string all = await Kubectl.OutputAsync("get", "all", "-n", "batch");
        Assert.Contains("daemonset.apps/agent", all, StringComparison.Ordinal);
        Assert.Contains("job.batch/count", all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cronjob_every_minute_fires_and_its_job_completes()
    {
        await Kubectl.OutputAsync("create", "namespace", "cron");
        await Kubectl.OutputAsync("create", "cronjob", "tick", "-n", "cron", "--image=busybox", "--schedule=*/1 * * * *", "--", "sh", "-c", "echo tick");

        // The next minute starts within 60 s; its Job then runs one short pod.
        await Eventually.WaitAsync(async () =>
        {
            string complete = await Kubectl.OutputAsync("get", "jobs", "-n", "cron", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Complete\")].status}{\"\\n\"}{end}");
            return complete.Split('\n').Contains("True");
        }, "a Job of the CronJob complete", TimeSpan.FromSeconds(150));
        string job = (await Kubectl.OutputAsync("get", "jobs", "-n", "cron", "-o", "jsonpath={.items[0].metadata.name}")).Trim();
        Assert.Matches(@"^tick-\d+$", job);
        Assert.Equal("tick", (await Kubectl.OutputAsync("logs", "job/" + job, "-n", "cron")).Trim());
        await Eventually.WaitAsync(async () => (await Kubectl.OutputAsync("get", "cronjob", "tick", "-n", "cron", "-o", "jsonpath={.status.lastSuccessfulTime}")).Length > 0, "lastSuccessfulTime set");
    }
}
