using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>Components run as their own processes against the API server, as on a cluster spanning machines.</summary>
public sealed class ComponentCommandTests : SwitchboardUpTestBase
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Readyz_verbose_lists_every_component_of_up_and_dns_ready_answers_from_the_same_checks()
    {
        string readyz = await Up.Kubectl.OutputAsync("get", "--raw", "/readyz?verbose");
        using var dnsReady = await Http.GetAsync(new Uri($"http://127.0.0.1:{Up.DnsMetricsPort}/ready"));

        Assert.Equal("[+]apiserver ok\n[+]controllers ok\n[+]dns ok\n[+]etcd ok\n[+]node ok\n[+]proxy ok\nreadyz check passed\n", readyz);
        Assert.Equal(System.Net.HttpStatusCode.OK, dnsReady.StatusCode);
    }

    [Fact]
    public async Task Switchboard_dns_alone_answers_from_the_api_server_of_its_kubeconfig_and_serves_its_metrics()
    {
        int port = FreePort.Next();
        int metricsPort = FreePort.Next();
        await using var dns = Component.Start(
            "dns", "--kubeconfig", Up.Kubectl.KubeconfigPath, "--listen", $"127.0.0.1:{port}", "--metrics", $"127.0.0.1:{metricsPort}", "--upstream", "127.0.0.1:9");

        string portText = port.ToString(CultureInfo.InvariantCulture);
        await Eventually.WaitAsync(
            async () => dns.HasExited || (await ChildProcess.RunAsync("dig", ["+short", "+tries=1", "+time=1", "@127.0.0.1", "-p", portText, "kubernetes.default.svc.cluster.local"])).Stdout.Trim() == "10.96.0.1",
            "switchboard dns to answer kubernetes.default with the API server's ClusterIP");
        Assert.False(dns.HasExited, "switchboard dns exited:\n" + dns.Output);

        var nx = await ChildProcess.RunAsync("dig", ["@127.0.0.1", "-p", portText, "nosuch.default.svc.cluster.local"]);
        Assert.Contains("status: NXDOMAIN", nx.Stdout);
        PrometheusScrape scrape = PrometheusScrape.Parse(await Http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics")));
        Assert.True(scrape.Value("switchboard_dns_requests_total", ("type", "A"), ("rcode", "NXDOMAIN")) >= 1);
        Assert.True(scrape.Value("switchboard_dns_request_duration_seconds_count") >= 2);
    }

    [Fact]
    public async Task Switchboard_controllers_alone_serves_client_go_workqueue_metrics_on_its_metrics_address()
    {
        int metricsPort = FreePort.Next();
        await using var controllers = Component.Start("controllers", "--kubeconfig", Up.Kubectl.KubeconfigPath, "--metrics-address", $"127.0.0.1:{metricsPort}");
        await Up.Kubectl.OutputAsync("create", "deployment", "web", "--image", "nginx", "--replicas", "2");

        PrometheusScrape? scrape = null;
        await Eventually.WaitAsync(
            async () =>
            {
                Assert.False(controllers.HasExited, "switchboard controllers exited:\n" + controllers.Output);
                scrape = PrometheusScrape.Parse(await Http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics")));
                return scrape.Sum("workqueue_adds_total", ("name", "deployment")) >= 1 && scrape.Sum("workqueue_work_duration_seconds_count", ("name", "deployment")) >= 1;
            },
            "the deployment queue of switchboard controllers to count the new deployment, added and worked on");

        foreach (string queue in (string[])["deployment", "replicaset", "endpoints", "endpointslice", "garbagecollector", "namespace", "scheduler"])
        {
            Assert.Single(scrape!.Find("workqueue_depth", ("name", queue)));
            Assert.Single(scrape.Find("workqueue_retries_total", ("name", queue)));
        }

        Assert.True(scrape!.Value("workqueue_queue_duration_seconds_count", ("name", "deployment")) >= 1);
        Assert.Equal("histogram", scrape.FamilyTypes["workqueue_work_duration_seconds"]);
        Assert.Equal("OK", await Http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/healthz")));
    }

    /// <summary>A <c>switchboard</c> component as its own process, its output kept for failure messages; killed on dispose.</summary>
    private sealed class Component : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output = new();

        private Component(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => _output.Enqueue(e.Data ?? "");
            _process.ErrorDataReceived += (_, e) => _output.Enqueue(e.Data ?? "");
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public bool HasExited => _process.HasExited;

        public string Output => string.Join('\n', _output);

        public static Component Start(params string[] args)
        {
            var start = new ProcessStartInfo(SwitchboardUp.Program) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in SwitchboardUp.Arguments(args))
            {
                start.ArgumentList.Add(arg);
            }

            return new Component(Process.Start(start)!);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}
