using k8s;
using Switchboard.Node.Tests.Fixtures;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>Container logs on disk as kubelet keeps them: one file per instance, the previous instance's kept across one restart.</summary>
[Collection(NodeCollection.Name)]
public sealed class ContainerLogTests(NodeFixture fixture)
{
    [Fact]
    public async Task The_previous_instance_log_is_kept_across_one_restart_and_no_more()
    {
        const string ns = "t-logs";
        await fixture.CreateNamespaceAsync(ns);
        var pod = NodeFixture.ShellPod("restarter", "sh", "-c", "echo started at $$(cat /proc/uptime); exit 1");
        var created = await fixture.Client.CoreV1.CreateNamespacedPodAsync(pod, ns);
        string logs = Path.Combine(fixture.Options.StateDirectory, "logs", $"{ns}_restarter_{created.Metadata.Uid}", "main");

        // The first restart is immediate, the second after a 10 s back-off.
        await fixture.WaitForPodAsync(ns, "restarter", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.RestartCount >= 1, "a first restart");
        Assert.True(File.Exists(Path.Combine(logs, "0.log")), "the first instance's log is kept after one restart");
        Assert.Contains(" stdout F started at ", await File.ReadAllTextAsync(Path.Combine(logs, "0.log")), StringComparison.Ordinal);
        await fixture.WaitForPodAsync(ns, "restarter", p => p.Status.ContainerStatuses[0].RestartCount >= 2, "a second restart", TimeSpan.FromSeconds(40));

        var files = Directory.EnumerateFiles(logs).Select(Path.GetFileName).ToList();
        Assert.DoesNotContain("0.log", files);
        Assert.Contains("1.log", files);
        Assert.Contains("2.log", files);
        await fixture.Client.CoreV1.DeleteNamespacedPodAsync("restarter", ns, new k8s.Models.V1DeleteOptions { GracePeriodSeconds = 0 });
    }
}
