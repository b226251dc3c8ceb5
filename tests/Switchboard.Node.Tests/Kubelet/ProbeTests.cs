using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>
/// Startup, readiness and liveness probes with exec, tcpSocket and httpGet handlers and kubelet's timings and
/// thresholds, observed through the pod's status and events as <c>kubectl describe</c> shows them.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class ProbeTests(NodeFixture fixture)
{
    [Fact]
    public async Task A_failing_liveness_probe_restarts_the_container_after_failureThreshold_misses()
    {
        const string ns = "t-liveness";
        await fixture.CreateNamespaceAsync(ns);
        // The pod's writable layer outlives a restart: the new container makes itself healthy again.
        var pod = NodeFixture.ShellPod("live", "sh", "-c", "touch /tmp/healthy; exec sleep infinity");
        pod.Spec.Containers[0].LivenessProbe = new V1Probe
        {
            Exec = new V1ExecAction { Command = ["cat", "/tmp/healthy"] },
            InitialDelaySeconds = 1,
            PeriodSeconds = 1,
            FailureThreshold = 3,
        };
        var running = await fixture.RunPodAsync(ns, pod);
        Assert.Equal(0, running.Status.ContainerStatuses[0].RestartCount);

        Assert.Equal(0, (await fixture.ExecAsync(ns, "live", "rm", "/tmp/healthy")).ExitCode);
        var restarted = await fixture.WaitForPodAsync(ns, "live", p => p.Status.ContainerStatuses[0].RestartCount == 1 && p.Status.ContainerStatuses[0].State.Running is not null,
            "restarted once and running");

        var status = restarted.Status.ContainerStatuses[0];
        Assert.NotNull(status.LastState.Terminated);
        Assert.NotEqual(running.Status.ContainerStatuses[0].ContainerID, status.ContainerID);
        var unhealthy = await EventAsync(ns, "live", "Unhealthy", e => e.Count >= 3);
        Assert.Equal("Warning", unhealthy.Type);
        Assert.StartsWith("Liveness probe failed: cat: /tmp/healthy: No such file or directory", unhealthy.Message, StringComparison.Ordinal);
        var killing = await EventAsync(ns, "live", "Killing");
        Assert.Equal("Container main failed liveness probe, will be restarted", killing.Message);
        Assert.Equal("spec.containers{main}", killing.InvolvedObject.FieldPath);

        // Healthy again after the restart: it stays at one.
        Assert.True((await fixture.ExecAsync(ns, "live", "cat", "/tmp/healthy")).ExitCode == 0, "the restarted container made /tmp/healthy");
        Assert.Equal(1, (await fixture.Client.CoreV1.ReadNamespacedPodAsync("live", ns)).Status.ContainerStatuses[0].RestartCount);
    }

    [Fact]
    public async Task A_startup_probe_holds_back_liveness_and_readiness_until_it_succeeds()
    {
        const string ns = "t-startup";
        await fixture.CreateNamespaceAsync(ns);
        var pod = NodeFixture.ShellPod("slow", "sleep", "infinity");
        var main = pod.Spec.Containers[0];
        main.StartupProbe = new V1Probe { Exec = new V1ExecAction { Command = ["cat", "/tmp/started"] }, PeriodSeconds = 1, FailureThreshold = 60 };

        // Both would act at their first run: liveness would kill the container, readiness would make it Ready.
        main.LivenessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["cat", "/tmp/started"] }, PeriodSeconds = 1, FailureThreshold = 1 };
        main.ReadinessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["true"] }, PeriodSeconds = 1 };
        await fixture.RunPodAsync(ns, pod, ready: false);

        var starting = await EventAsync(ns, "slow", "Unhealthy", e => e.Count >= 3);
        Assert.StartsWith("Startup probe failed: cat: /tmp/started: No such file or directory", starting.Message, StringComparison.Ordinal);
        var gated = (await fixture.Client.CoreV1.ReadNamespacedPodAsync("slow", ns)).Status.ContainerStatuses[0];
        Assert.False(gated.Started);
        Assert.False(gated.Ready);
        Assert.Equal(0, gated.RestartCount);
        Assert.DoesNotContain(await EventsAsync(ns, "slow"), e => e.Reason == "Killing" || e.Message.StartsWith("Liveness", StringComparison.Ordinal));

        Assert.Equal(0, (await fixture.ExecAsync(ns, "slow", "touch", "/tmp/started")).ExitCode);
        var started = await fixture.WaitForPodAsync(ns, "slow", p => p.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True"), "Ready once started");
        Assert.True(started.Status.ContainerStatuses[0].Started);
        Assert.Equal(0, started.Status.ContainerStatuses[0].RestartCount);
    }

    [Fact]
    public async Task TcpSocket_probes_connect_to_the_pod_and_report_a_refused_port_as_kubelet_does()
    {
        const string ns = "t-tcp";
        await fixture.CreateNamespaceAsync(ns);
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "tcp" },
            Spec = new V1PodSpec
            {
                TerminationGracePeriodSeconds = 1,
                Containers =
                [
                    new V1Container
                    {
                        Name = "echo",
                        Image = "switchboard/echo",
                        Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }],
                        ReadinessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = "http" }, PeriodSeconds = 1 },
                    },
                    new V1Container
                    {
                        Name = "closed",
                        Image = "busybox",
                        Command = ["sleep", "infinity"],
                        ReadinessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = 9 }, PeriodSeconds = 1, FailureThreshold = 1 },
                    },
                ],
            },
        };
        var running = await fixture.RunPodAsync(ns, pod, ready: false);

        var echo = await fixture.WaitForPodAsync(ns, "tcp", p => p.Status.ContainerStatuses.Single(c => c.Name == "echo").Ready, "echo ready by its named port");
        Assert.False(echo.Status.ContainerStatuses.Single(c => c.Name == "closed").Ready);
        Assert.Contains(echo.Status.Conditions, c => c.Type == "Ready" && c.Status == "False");
        var refused = await EventAsync(ns, "tcp", "Unhealthy", e => e.InvolvedObject.FieldPath == "spec.containers{closed}");
        Assert.Equal($"Readiness probe failed: dial tcp {running.Status.PodIP}:9: connect: connection refused", refused.Message);
    }

    [Fact]
    public async Task An_exec_probe_that_outlives_timeoutSeconds_fails_as_timed_out()
    {
        const string ns = "t-exec-timeout";
        await fixture.CreateNamespaceAsync(ns);
        var pod = NodeFixture.ShellPod("stuck", "sleep", "infinity");
        pod.Spec.Containers[0].ReadinessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["sleep", "30"] }, TimeoutSeconds = 1, PeriodSeconds = 2 };
        await fixture.RunPodAsync(ns, pod, ready: false);

        // Cut at its timeout, not left to run its 30 s.
        var timedOut = await EventAsync(ns, "stuck", "Unhealthy", timeout: TimeSpan.FromSeconds(20));
        Assert.Equal("Readiness probe failed: command \"sleep 30\" timed out", timedOut.Message);
        Assert.False((await fixture.Client.CoreV1.ReadNamespacedPodAsync("stuck", ns)).Status.ContainerStatuses[0].Ready);
    }

    [Fact]
    public async Task A_readiness_probe_turns_Ready_only_after_successThreshold_successes_and_back_after_failureThreshold_misses()
    {
        const string ns = "t-thresholds";
        await fixture.CreateNamespaceAsync(ns);
        var pod = NodeFixture.ShellPod("flappy", "sleep", "infinity");
        pod.Spec.Containers[0].ReadinessProbe = new V1Probe
        {
            Exec = new V1ExecAction { Command = ["sh", "-c", "echo x >> /tmp/probes; cat /tmp/ready"] },
            PeriodSeconds = 2,
            SuccessThreshold = 3,
            FailureThreshold = 2,
        };
        await fixture.RunPodAsync(ns, pod, ready: false);

        Assert.Equal(0, (await fixture.ExecAsync(ns, "flappy", "sh", "-c", ": > /tmp/probes; touch /tmp/ready")).ExitCode);
        await fixture.WaitForPodAsync(ns, "flappy", p => p.Status.ContainerStatuses[0].Ready, "Ready");
        var (_, probes, _) = await fixture.ExecAsync(ns, "flappy", "cat", "/tmp/probes");
        Assert.True(probes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 3, $"Ready after {probes.Count(c => c == 'x')} probes, successThreshold 3");

        Assert.Equal(0, (await fixture.ExecAsync(ns, "flappy", "sh", "-c", "rm /tmp/ready; : > /tmp/probes")).ExitCode);
        await fixture.WaitForPodAsync(ns, "flappy", p => !p.Status.ContainerStatuses[0].Ready, "not Ready");
        (_, probes, _) = await fixture.ExecAsync(ns, "flappy", "cat", "/tmp/probes");
        Assert.True(probes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 2, $"not Ready after {probes.Count(c => c == 'x')} probes, failureThreshold 2");
    }

    private async Task<IList<Corev1Event>> EventsAsync(string ns, string pod) =>
        [.. (await fixture.Client.CoreV1.ListNamespacedEventAsync(ns)).Items.Where(e => e.InvolvedObject.Name == pod)];

    private async Task<Corev1Event> EventAsync(string ns, string pod, string reason, Func<Corev1Event, bool>? condition = null, TimeSpan? timeout = null)
    {
        Corev1Event? found = null;
        await Eventually.WaitAsync(async () =>
        {
            found = (await EventsAsync(ns, pod)).FirstOrDefault(e => e.Reason == reason && (condition is null || condition(e)));
            return found is not null;
        }, $"event {reason} for pod {ns}/{pod}", timeout);
        return found!;
    }
}
