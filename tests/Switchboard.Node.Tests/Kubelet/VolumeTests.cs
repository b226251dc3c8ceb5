using System.Text;
using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>Volumes as containers see them: configMap, secret, downwardAPI, emptyDir and hostPath, bound per container; runAsUser.</summary>
[Collection(NodeCollection.Name)]
public sealed class VolumeTests(NodeFixture fixture)
{
    [Fact]
    public async Task Containers_see_their_volumes_and_a_configMap_update_reaches_the_file()
    {
        const string ns = "t-volumes";
        await fixture.CreateNamespaceAsync(ns);
        await fixture.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "settings" },
            Data = new Dictionary<string, string> { ["color"] = "blue" },
        }, ns);
        await fixture.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "creds" },
            Data = new Dictionary<string, byte[]> { ["password"] = Encoding.UTF8.GetBytes("s3cret") },
        }, ns);
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "vols", Labels = new Dictionary<string, string> { ["app"] = "vols", ["tier"] = "web" } },
            Spec = new V1PodSpec
            {
                TerminationGracePeriodSeconds = 1,
                SecurityContext = new V1PodSecurityContext { FsGroup = 2000 },
                Volumes =
                [
                    new V1Volume { Name = "cache", EmptyDir = new V1EmptyDirVolumeSource() },
                    new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = "settings" } },
                    new V1Volume { Name = "creds", Secret = new V1SecretVolumeSource { SecretName = "creds", DefaultMode = 256, Items = [new V1KeyToPath { Key = "password", Path = "db/password" }] } },
                    new V1Volume { Name = "podinfo", DownwardAPI = new V1DownwardAPIVolumeSource { Items = [new V1DownwardAPIVolumeFile { Path = "labels", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels" } }] } },
                ],
                Containers =
                [
                    new V1Container
                    {
                        Name = "writer",
                        Image = "debian:12",
                        Command = ["sh", "-c", "echo shared > /cache/note; exec sleep infinity"],
                        SecurityContext = new V1SecurityContext { RunAsUser = 1000, RunAsGroup = 3000 },
                        VolumeMounts =
                        [
                            new V1VolumeMount { Name = "cache", MountPath = "/cache" },
                            new V1VolumeMount { Name = "config", MountPath = "/etc/config" },
                            new V1VolumeMount { Name = "creds", MountPath = "/etc/creds" },
                            new V1VolumeMount { Name = "podinfo", MountPath = "/etc/podinfo" },
                        ],
                    },
                    new V1Container
                    {
                        Name = "reader",
                        Image = "debian:12",
                        Command = ["sleep", "infinity"],
                        VolumeMounts = [new V1VolumeMount { Name = "cache", MountPath = "/data", ReadOnlyProperty = true }],
                    },
                ],
            },
        };
        await fixture.RunPodAsync(ns, pod);

        // The container runs as its user, with the pod's fsGroup among its groups.
        Assert.Equal("1000\n", (await ExecOkAsync(ns, "writer", "id", "-u")).Stdout);
        Assert.Equal("3000\n", (await ExecOkAsync(ns, "writer", "id", "-g")).Stdout);
        Assert.Contains("2000", (await ExecOkAsync(ns, "writer", "id", "-G")).Stdout.Split(' ', '\n'));

        // emptyDir: what one container writes, the other reads (read-only there).
        Assert.Equal("shared\n", (await ExecOkAsync(ns, "reader", "cat", "/data/note")).Stdout);
        Assert.NotEqual(0, (await fixture.ExecInAsync(ns, "vols", "reader", "touch", "/data/other")).ExitCode);
        // A volume a container does not mount is not in its filesystem.
        Assert.NotEqual(0, (await fixture.ExecInAsync(ns, "vols", "reader", "test", "-e", "/etc/config/color")).ExitCode);

        // configMap: kubelet's layout (visible names are symlinks through ..data), read-only.
        Assert.Equal("blue", (await ExecOkAsync(ns, "writer", "cat", "/etc/config/color")).Stdout);
        Assert.Equal("..data/color\n", (await ExecOkAsync(ns, "writer", "readlink", "/etc/config/color")).Stdout);
        Assert.NotEqual(0, (await fixture.ExecInAsync(ns, "vols", "writer", "touch", "/etc/config/new")).ExitCode);

        // secret: the item at its path, defaultMode 0400 plus the fsGroup's read bit, the group the fsGroup; readable by the user through it.
        Assert.Equal("440 2000\n", (await ExecOkAsync(ns, "writer", "stat", "-L", "-c", "%a %g", "/etc/creds/db/password")).Stdout);
        Assert.Equal("s3cret", (await ExecOkAsync(ns, "writer", "cat", "/etc/creds/db/password")).Stdout);

        // downwardAPI: the labels as key="value" lines, sorted.
        Assert.Equal("app=\"vols\"\ntier=\"web\"", (await ExecOkAsync(ns, "writer", "cat", "/etc/podinfo/labels")).Stdout);

        var cm = await fixture.Client.CoreV1.ReadNamespacedConfigMapAsync("settings", ns);
        cm.Data["color"] = "red";
        await fixture.Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, "settings", ns);
        await Eventually.WaitAsync(async () => (await fixture.ExecInAsync(ns, "vols", "writer", "cat", "/etc/config/color")).Stdout == "red",
            "the configMap's update in /etc/config/color", TimeSpan.FromSeconds(30));

        // A label change reaches the downward API file too.
        await fixture.Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("{\"metadata\":{\"labels\":{\"tier\":\"db\"}}}", V1Patch.PatchType.MergePatch), "vols", ns);
        await Eventually.WaitAsync(async () => (await fixture.ExecInAsync(ns, "vols", "writer", "cat", "/etc/podinfo/labels")).Stdout == "app=\"vols\"\ntier=\"db\"",
            "the new label in /etc/podinfo/labels", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_missing_configMap_holds_the_pod_with_FailedMount_until_it_appears()
    {
        const string ns = "t-mount";
        await fixture.CreateNamespaceAsync(ns);
        var pod = NodeFixture.ShellPod("waiter", "sleep", "infinity");
        pod.Spec.Volumes = [new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = "late" } }];
        pod.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "config", MountPath = "/config" }];
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(pod, ns);

        Corev1Event? failed = null;
        await Eventually.WaitAsync(async () =>
        {
            failed = (await fixture.Client.CoreV1.ListNamespacedEventAsync(ns)).Items.FirstOrDefault(e => e.Reason == "FailedMount");
            return failed is not null;
        }, "a FailedMount event");
        Assert.Equal("MountVolume.SetUp failed for volume \"config\" : configmap \"late\" not found", failed!.Message);
        Assert.Equal("Warning", failed.Type);
        var waiting = await fixture.WaitForPodAsync(ns, "waiter", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason == "ContainerCreating", "waiting in ContainerCreating");
        Assert.Equal("Pending", waiting.Status.Phase);
        Assert.Null(waiting.Status.PodIP);

        await fixture.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "late" },
            Data = new Dictionary<string, string> { ["greeting"] = "hello" },
        }, ns);
        await fixture.WaitForPodAsync(ns, "waiter", p => p.Status?.Phase == "Running", "Running once the configMap exists");
        Assert.Equal("hello", (await fixture.ExecAsync(ns, "waiter", "cat", "/config/greeting")).Stdout);
    }

    [Fact]
    public async Task A_hostPath_of_the_wrong_type_fails_the_mount_and_one_created_on_demand_is_bound()
    {
        const string ns = "t-hostpath";
        await fixture.CreateNamespaceAsync(ns);
        string dir = Path.Combine(fixture.Options.StateDirectory, "host-" + Guid.NewGuid().ToString("n")[..8]);
        string file = Path.Combine(fixture.Options.StateDirectory, "host-file-" + Guid.NewGuid().ToString("n")[..8]);
        await File.WriteAllTextAsync(file, "not a directory");

        var wrong = NodeFixture.ShellPod("wrong", "sleep", "infinity");
        wrong.Spec.Volumes = [new V1Volume { Name = "data", HostPath = new V1HostPathVolumeSource { Path = file, Type = "Directory" } }];
        wrong.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }];
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(wrong, ns);

        var right = NodeFixture.ShellPod("right", "sh", "-c", "echo from-pod > /data/out; exec sleep infinity");
        right.Spec.Volumes = [new V1Volume { Name = "data", HostPath = new V1HostPathVolumeSource { Path = dir, Type = "DirectoryOrCreate" } }];
        right.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }];
        await fixture.RunPodAsync(ns, right);
        await Eventually.WaitAsync(() => Task.FromResult(File.Exists(Path.Combine(dir, "out"))), "the pod's file in the host directory");
        Assert.Equal("from-pod\n", await File.ReadAllTextAsync(Path.Combine(dir, "out")));

        await Eventually.WaitAsync(async () => (await fixture.Client.CoreV1.ListNamespacedEventAsync(ns)).Items.Any(e => e.Reason == "FailedMount"
            && e.Message == $"MountVolume.SetUp failed for volume \"data\" : hostPath type check failed: {file} is not a directory"), "FailedMount for the file given as a Directory");
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> ExecOkAsync(string ns, string container, params string[] command)
    {
        var result = await fixture.ExecInAsync(ns, "vols", container, command);
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', command)} in {container}: {result.Stderr}");
        return result;
    }
}
