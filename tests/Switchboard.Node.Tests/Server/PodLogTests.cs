using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Server;

/// <summary>
/// <c>kubectl logs</c> and <c>nodes/proxy</c> end to end: the real kubectl against the API server, which checks the
/// request and relays it to the node's HTTPS port, which reads the container's CRI log files.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed partial class PodLogTests(NodeFixture fixture)
{
    private const string Ns = "t-podlogs";

    [Fact]
    public async Task Logs_follow_a_container_printing_a_line_a_second_and_end_when_it_ends()
    {
        await EnsureNamespaceAsync();
        var pod = NodeFixture.ShellPod("ticker", "sh", "-c", "for i in 1 2 3 4 5; do echo tick $$i; sleep 1; done");
        pod.Spec.RestartPolicy = "Never";
        await fixture.RunPodAsync(Ns, pod, ready: false);

        using var follow = fixture.Server.Kubectl.Start("logs", "-f", "-n", Ns, "ticker");
        // Lines arrive while the container still runs, then the stream ends by itself with the container.
        await follow.WaitForLineAsync(l => l == "tick 2", "the second tick while the container runs", TimeSpan.FromSeconds(30));
        Assert.Equal(0, await follow.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(["tick 1", "tick 2", "tick 3", "tick 4", "tick 5"], follow.StandardOutputLines);
    }

    [Fact]
    public async Task Previous_tail_since_time_timestamps_and_limit_bytes_cut_the_log_as_kubelet()
    {
        await EnsureNamespaceAsync();
        // The first run prints five lines and fails; the second prints one line, then another three seconds later.
        var pod = NodeFixture.ShellPod("twice", "sh", "-c",
            "if [ -e /data/ran ]; then echo second early; sleep 3; echo second late; sleep infinity; fi; touch /data/ran; for i in 1 2 3 4 5; do echo first $$i; done; exit 1");
        pod.Spec.Volumes = [new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() }];
        pod.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }];
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(pod, Ns);
        await fixture.WaitForPodAsync(Ns, "twice", p => p.Status?.ContainerStatuses?.FirstOrDefault() is { RestartCount: >= 1, State.Running: not null }, "running again after one restart");
        var kubectl = fixture.Server.Kubectl;
        await Eventually.WaitAsync(async () => (await kubectl.OutputAsync("logs", "-n", Ns, "twice")).Contains("second late", StringComparison.Ordinal), "the second run's late line");

        Assert.Equal("second early\nsecond late\n", await kubectl.OutputAsync("logs", "-n", Ns, "twice"));
        Assert.Equal("first 1\nfirst 2\nfirst 3\nfirst 4\nfirst 5\n", await kubectl.OutputAsync("logs", "--previous", "-n", Ns, "twice"));
        Assert.Equal("first 4\nfirst 5\n", await kubectl.OutputAsync("logs", "--previous", "--tail=2", "-n", Ns, "twice"));
        Assert.Equal("", await kubectl.OutputAsync("logs", "--previous", "--tail=0", "-n", Ns, "twice"));
        Assert.Equal("first 1\nfi", await kubectl.OutputAsync("logs", "--previous", "--limit-bytes=10", "-n", Ns, "twice"));
        Assert.Equal("first 1\nfirst 2\nfirst 3\nfirst 4\nfirst 5\n", await kubectl.OutputAsync("logs", "--previous", "--since=1h", "-n", Ns, "twice"));

        string stamped = await kubectl.OutputAsync("logs", "--timestamps", "-n", Ns, "twice");
        var lines = stamped.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var match = StampedLine().Match(lines[1]);
        Assert.True(match.Success, $"an RFC3339 timestamp with 9 fraction digits, a space and the line: {lines[1]}");
        Assert.Equal("second late", match.Groups["line"].Value);
        Assert.EndsWith(" second early", lines[0], StringComparison.Ordinal);

        // The late line's second, whole: the early line, three seconds before it, is left out.
        var late = DateTimeOffset.Parse(match.Groups["stamp"].Value[..19] + "Z", CultureInfo.InvariantCulture);
        string sinceTime = late.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        Assert.Equal("second late\n", await kubectl.OutputAsync("logs", "--since-time=" + sinceTime, "-n", Ns, "twice"));
        await fixture.Client.CoreV1.DeleteNamespacedPodAsync("twice", Ns, new V1DeleteOptions { GracePeriodSeconds = 0 });
    }

    [Fact]
    public async Task Wrong_requests_get_kube_apiserver_errors()
    {
        await EnsureNamespaceAsync();
        var kubectl = fixture.Server.Kubectl;
        var missing = await kubectl.RunAsync("logs", "-n", Ns, "nosuchpod");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("pods \"nosuchpod\" not found", missing.Stderr, StringComparison.Ordinal);

        // Two containers, the first waiting behind an init container that never ends.
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "pair" },
            Spec = new V1PodSpec
            {
                TerminationGracePeriodSeconds = 1,
                InitContainers = [new V1Container { Name = "setup", Image = "debian:12", Command = ["sleep", "infinity"] }],
                Containers =
                [
                    new V1Container { Name = "web", Image = "debian:12", Command = ["sleep", "infinity"] },
                    new V1Container { Name = "side", Image = "debian:12", Command = ["sleep", "infinity"] },
                ],
            },
        };
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(pod, Ns);
        await fixture.WaitForPodAsync(Ns, "pair", p => p.Status?.InitContainerStatuses?.FirstOrDefault()?.State?.Running is not null, "the init container running");

        var invalid = await kubectl.RunAsync("logs", "-n", Ns, "pair", "-c", "nope");
        Assert.NotEqual(0, invalid.ExitCode);
        Assert.Contains("container nope is not valid for pod pair", invalid.Stderr, StringComparison.Ordinal);

        var unnamed = await kubectl.RunAsync("get", "--raw", $"/api/v1/namespaces/{Ns}/pods/pair/log");
        Assert.NotEqual(0, unnamed.ExitCode);
        Assert.Contains("a container name must be specified for pod pair, choose one of: [setup web side]", unnamed.Stderr, StringComparison.Ordinal);

        var waiting = await kubectl.RunAsync("logs", "-n", Ns, "pair", "-c", "web");
        Assert.NotEqual(0, waiting.ExitCode);
        Assert.Contains("container \"web\" in pod \"pair\" is waiting to start: PodInitializing", waiting.Stderr, StringComparison.Ordinal);

        var previous = await kubectl.RunAsync("logs", "-n", Ns, "pair", "-c", "setup", "--previous");
        Assert.NotEqual(0, previous.ExitCode);
        Assert.Contains("previous terminated container \"setup\" in pod \"pair\" not found", previous.Stderr, StringComparison.Ordinal);

        var badTail = await kubectl.RunAsync("get", "--raw", $"/api/v1/namespaces/{Ns}/pods/pair/log?container=setup&tailLines=-3");
        Assert.NotEqual(0, badTail.ExitCode);
        Assert.Contains("tailLines: Invalid value: -3: must be greater than or equal to 0", badTail.Stderr, StringComparison.Ordinal);
        await fixture.Client.CoreV1.DeleteNamespacedPodAsync("pair", Ns, new V1DeleteOptions { GracePeriodSeconds = 0 });
    }

    [Fact]
    public async Task A_pod_exec_without_an_upgrade_is_refused_and_an_unscheduled_one_has_no_host()
    {
        await EnsureNamespaceAsync();
        var pod = NodeFixture.ShellPod("idle", "sleep", "infinity");
        await fixture.RunPodAsync(Ns, pod);
        var plain = await fixture.Server.Kubectl.RunAsync("get", "--raw", $"/api/v1/namespaces/{Ns}/pods/idle/exec?command=true&stdout=true");
        Assert.NotEqual(0, plain.ExitCode);
        Assert.Contains("Upgrade request required", plain.Stderr, StringComparison.Ordinal);

        var stranded = NodeFixture.ShellPod("stranded", "sleep", "infinity");
        stranded.Spec.NodeSelector = new Dictionary<string, string> { ["no-such-label"] = "x" };
        await fixture.Client.CoreV1.CreateNamespacedPodAsync(stranded, Ns);
        var unassigned = await fixture.Server.Kubectl.RunAsync("get", "--raw", $"/api/v1/namespaces/{Ns}/pods/stranded/attach?stdout=true");
        Assert.NotEqual(0, unassigned.ExitCode);
        Assert.Contains("pod stranded does not have a host assigned", unassigned.Stderr, StringComparison.Ordinal);
        await fixture.Client.CoreV1.DeleteNamespacedPodAsync("stranded", Ns, new V1DeleteOptions { GracePeriodSeconds = 0 });
    }

    [Fact]
    public async Task Node_proxy_reaches_the_node_and_relays_its_answers()
    {
        string node = fixture.Options.NodeName;
        Assert.Equal("ok", await fixture.Server.Kubectl.OutputAsync("get", "--raw", $"/api/v1/nodes/{node}/proxy/healthz"));
        string metrics = await fixture.Server.Kubectl.OutputAsync("get", "--raw", $"/api/v1/nodes/{node}/proxy/metrics/resource");
        Assert.Contains("node_cpu_usage_seconds_total ", metrics, StringComparison.Ordinal);

        var absent = await fixture.Server.Kubectl.RunAsync("get", "--raw", "/api/v1/nodes/no-such-node/proxy/healthz");
        Assert.NotEqual(0, absent.ExitCode);
        Assert.Contains("nodes \"no-such-node\" not found", absent.Stderr, StringComparison.Ordinal);

        // An upgrade the node refuses comes back with the node's code, not the API server's.
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + await File.ReadAllTextAsync(Path.Combine(fixture.Server.DataDirectory, "admin.token")));
        socket.Options.AddSubProtocol("v5.channel.k8s.io");
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        var url = new UriBuilder(fixture.Server.Host.Url) { Scheme = "wss", Path = $"/api/v1/nodes/{node}/proxy/exec/{Ns}/no-such-pod/main", Query = "command=true&output=1" }.Uri;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(url, CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, socket.HttpStatusCode);
    }

    private async Task EnsureNamespaceAsync()
    {
        if ((await fixture.Client.CoreV1.ListNamespaceAsync()).Items.All(n => n.Metadata.Name != Ns))
        {
            try
            {
                await fixture.CreateNamespaceAsync(Ns);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // Another test of this class made it meanwhile.
            }
        }
    }

    [GeneratedRegex(@"^(?<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (?<line>.*)$")]
    private static partial Regex StampedLine();
}
