using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>Init containers run in order before the app starts; postStart and preStop hooks run at start and on delete.</summary>
[Collection(NodeCollection.Name)]
public sealed class InitContainerAndHookTests(NodeFixture fixture)
{
    [Fact]
    public async Task Init_containers_run_in_order_to_completion_before_the_app_container()
    {
        const string ns = "t-init";
        await fixture.CreateNamespaceAsync(ns);
        string gate = Path.Combine(fixture.Options.StateDirectory, "gate-" + Guid.NewGuid().ToString("n")[..8]);
        Directory.CreateDirectory(gate);
        var pod = NodeFixture.ShellPod("app", "sh", "-c", "echo app >> /work/order; exec sleep infinity");
        pod.Spec.Volumes =
        [
            new V1Volume { Name = "work", EmptyDir = new V1EmptyDirVolumeSource() },
            new V1Volume { Name = "gate", HostPath = new V1HostPathVolumeSource { Path = gate, Type = "Directory" } },
        ];
        V1VolumeMount[] mounts = [new V1VolumeMount { Name = "work", MountPath = "/work" }, new V1VolumeMount { Name = "gate", MountPath = "/gate" }];
        pod.Spec.Containers[0].VolumeMounts = mounts;
        pod.Spec.InitContainers =
        [
            // The first waits for the test to open the gate, so the pod is seen initializing.
            new V1Container { Name = "first", Image = "busybox", Command = ["sh", "-c", "until [ -e /gate/open ]; do sleep 0.1; done; echo first >> /work/order"], VolumeMounts = mounts },
            new V1Container { Name = "second", Image = "busybox", Command = ["sh", "-c", "echo second >> /work/order"], VolumeMounts = mounts },
        ];
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(pod, ns);

        var initializing = await fixture.WaitForPodAsync(ns, "app", p => p.Status?.InitContainerStatuses?.FirstOrDefault()?.State?.Running is not null, "the first init container running");
        Assert.Equal("Pending", initializing.Status.Phase);
        Assert.Equal("PodInitializing", initializing.Status.InitContainerStatuses[1].State.Waiting.Reason);
        Assert.Equal("PodInitializing", initializing.Status.ContainerStatuses[0].State.Waiting.Reason);
        var initialized = initializing.Status.Conditions.Single(c => c.Type == "Initialized");
        Assert.Equal(("False", "ContainersNotInitialized", "containers with incomplete status: [first second]"), (initialized.Status, initialized.Reason, initialized.Message));
        Assert.Contains("Init:0/2", await fixture.Server.KubectlOkAsync("get", "pod", "-n", ns, "app", "--no-headers"), StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(gate, "open"), "");
        var running = await fixture.WaitForPodAsync(ns, "app", p => p.Status?.Phase == "Running", "Running after the init containers");
        Assert.All(running.Status.InitContainerStatuses, s => Assert.Equal(("Completed", 0), (s.State.Terminated.Reason, s.State.Terminated.ExitCode)));
        Assert.Equal("True", running.Status.Conditions.Single(c => c.Type == "Initialized").Status);
        await Eventually.WaitAsync(async () => (await fixture.ExecAsync(ns, "app", "cat", "/work/order")).Stdout == "first\nsecond\napp\n", "first, second, then app in /work/order");
    }

    [Fact]
    public async Task PostStart_runs_after_the_start_and_preStop_before_the_stop_on_delete()
    {
        const string ns = "t-hooks";
        await fixture.CreateNamespaceAsync(ns);
        string dir = Path.Combine(fixture.Options.StateDirectory, "hooks-" + Guid.NewGuid().ToString("n")[..8]);
        var pod = NodeFixture.ShellPod("hooked", "sh", "-c", "trap 'echo term >> /out/log; exit 0' TERM; echo main >> /out/log; sleep infinity & wait");
        pod.Spec.TerminationGracePeriodSeconds = 10;
        pod.Spec.Volumes = [new V1Volume { Name = "out", HostPath = new V1HostPathVolumeSource { Path = dir, Type = "DirectoryOrCreate" } }];
        pod.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "out", MountPath = "/out" }];
        pod.Spec.Containers[0].Lifecycle = new V1Lifecycle
        {
            PostStart = new V1LifecycleHandler { Exec = new V1ExecAction { Command = ["sh", "-c", "echo poststart > /out/poststart"] } },
            PreStop = new V1LifecycleHandler { Exec = new V1ExecAction { Command = ["sh", "-c", "echo prestop >> /out/log"] } },
        };
        await fixture.RunPodAsync(ns, pod);
        Assert.Equal("poststart\n", await File.ReadAllTextAsync(Path.Combine(dir, "poststart")));

        await fixture.Server.KubectlOkAsync("delete", "pod", "-n", ns, "hooked", "--wait=true");
        Assert.Equal("main\nprestop\nterm\n", await File.ReadAllTextAsync(Path.Combine(dir, "log")));
    }

    [Fact]
    public async Task A_failing_postStart_hook_kills_the_container_with_FailedPostStartHook()
    {
        const string ns = "t-poststart";
        await fixture.CreateNamespaceAsync(ns);
        var pod = NodeFixture.ShellPod("broken", "sleep", "infinity");
        pod.Spec.Containers[0].Lifecycle = new V1Lifecycle { PostStart = new V1LifecycleHandler { Exec = new V1ExecAction { Command = ["false"] } } };
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(pod, ns);

        await Eventually.WaitAsync(async () => (await fixture.Client.CoreV1.ListNamespacedEventAsync(ns)).Items.Any(e => e is { Reason: "FailedPostStartHook", Type: "Warning", Message: "PostStartHook failed" }),
            "a FailedPostStartHook event");
        var restarted = await fixture.WaitForPodAsync(ns, "broken", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.LastState?.Terminated is not null, "the killed instance in lastState");
        Assert.False(restarted.Status.ContainerStatuses[0].Ready);
    }
}
