using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Operations;

/// <summary>
/// The real kubectl 1.32's <c>top pods</c> and <c>top nodes</c> against metrics.k8s.io/v1beta1, which the API server
/// computes from the node's resource metrics as metrics-server does: a pod spinning on a cpu limit shows non-zero cpu
/// and memory, the node its own usage, and the raw PodMetrics carry a timestamp and a window.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class TopTests(NodeFixture fixture) : IAsyncLifetime
{
    private const string Ns = "t-top";

    private Kubectl Kubectl => fixture.Server.Kubectl;

    public async Task InitializeAsync()
    {
        await fixture.EnsureNamespaceAsync(Ns);
        if ((await fixture.Client.CoreV1.ListNamespacedPodAsync(Ns)).Items.Count == 0)
        {
            var spinner = NodeFixture.ShellPod("spinner", "sh", "-c", "while :; do :; done");
            spinner.Spec.Containers[0].Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("64Mi") } };
            await fixture.RunPodAsync(Ns, spinner, ready: false);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Top_pods_shows_cpu_and_memory_of_a_running_pod_in_its_namespace_and_across_all()
    {
        string table = await Kubectl.OutputAsync("top", "pods", "-n", Ns);
        Assert.Matches(@"^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*\n", table);
        // A shell loop's working set is under a mebibyte, which kubectl prints as 0Mi; the raw bytes are checked below.
        Assert.Matches(@"(?m)^spinner\s+[1-9]\d*m\s+\d+Mi\s*$", table);

        string all = await Kubectl.OutputAsync("top", "pods", "-A", "-l", "app=spinner");
        Assert.Matches(@"(?m)^t-top\s+spinner\s+[1-9]\d*m\s+\d+Mi\s*$", all);

        string containers = await Kubectl.OutputAsync("top", "pod", "spinner", "-n", Ns, "--containers");
        Assert.Matches(@"(?m)^spinner\s+main\s+[1-9]\d*m\s+\d+Mi\s*$", containers);
    }

    [Fact]
    public async Task Top_nodes_shows_the_nodes_usage_against_its_allocatable()
    {
        string table = await Kubectl.OutputAsync("top", "nodes");

        Assert.Matches(@"(?m)^node-1\s+[1-9]\d*m\s+\d+%\s+[1-9]\d*Mi\s+\d+%\s*$", table);
    }

    [Fact]
    public async Task PodMetrics_carry_a_timestamp_a_window_and_each_containers_usage()
    {
        var metrics = JsonNode.Parse(await Kubectl.OutputAsync("get", "--raw", $"/apis/metrics.k8s.io/v1beta1/namespaces/{Ns}/pods/spinner"))!;

        Assert.Equal("PodMetrics", metrics["kind"]!.ToString());
        Assert.Equal("spinner", metrics["metadata"]!["name"]!.ToString());
        Assert.Equal("spinner", metrics["metadata"]!["labels"]!["app"]!.ToString());
        Assert.True(DateTime.TryParse(metrics["timestamp"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Matches(@"^\d+(\.\d+)?s$", metrics["window"]!.ToString());
        var container = Assert.Single(metrics["containers"]!.AsArray())!;
        Assert.Equal("main", container["name"]!.ToString());
        Assert.Matches("^[1-9][0-9]*n$", container["usage"]!["cpu"]!.ToString());
        Assert.Matches("^[1-9][0-9]*(Ki)?$", container["usage"]!["memory"]!.ToString());

        var missing = await Kubectl.RunAsync("get", "--raw", $"/apis/metrics.k8s.io/v1beta1/namespaces/{Ns}/pods/absent");
        Assert.Contains("podmetrics.metrics.k8s.io \"absent\" not found", missing.Stderr, StringComparison.Ordinal);
    }
}
