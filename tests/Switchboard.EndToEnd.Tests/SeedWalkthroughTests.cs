using System.Globalization;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>The walkthrough of the seed document, step by step, against <c>switchboard up</c> with the real kubectl.</summary>
public sealed class SeedWalkthroughTests : SwitchboardUpTestBase
{
    [Fact]
    public async Task Backend_service_gets_a_cluster_ip_and_its_deployment_three_pods()
    {
        Assert.Contains("namespace/critical-app created", await Up.Kubectl.OutputAsync("create", "namespace", "critical-app"));
        string created = await Up.Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        Assert.Contains("service/backend created", created);
        Assert.Contains("deployment.apps/backend created", created);

        string describe = await Up.Kubectl.OutputAsync("describe", "service", "backend", "-n", "critical-app");
        Assert.Matches(@"Selector:\s+app=critical-app,role=backend", describe);
        Assert.Matches(@"Type:\s+ClusterIP", describe);
        Assert.Matches(@"IP:\s+10\.96\.\d+\.\d+", describe);
        Assert.Matches(@"Port:\s+<unset>\s+80/TCP", describe);

        await Eventually.WaitAsync(
            async () => (await Up.Kubectl.OutputAsync("get", "pods", "-n", "critical-app", "-l", "app=critical-app,role=backend", "-o", "name"))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 3,
            "the deployment's three pods");
        string replicaSets = await Up.Kubectl.OutputAsync("get", "replicasets", "-n", "critical-app", "-o", "name");
        Assert.Matches(@"^replicaset\.apps/backend-[a-z0-9]+\s*$", replicaSets);

        // The name the client's resolver asks for, answered by our DNS server with the ClusterIP from the API.
        string ip = await Up.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        var dig = await ChildProcess.RunAsync("dig", ["+short", "@127.0.0.1", "-p", Up.DnsPort.ToString(CultureInfo.InvariantCulture), "backend.critical-app.svc.cluster.local"]);
        Assert.Equal(ip, dig.EnsureSuccess("dig").Stdout.Trim());
    }

    [Fact]
    public async Task A_client_pod_resolves_the_service_name_and_reaches_every_backend_pod_through_the_kernel()
    {
        await Up.Kubectl.OutputAsync("create", "namespace", "critical-app");
        await Up.Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        await Up.Kubectl.OutputAsync("run", "client", "--image=tutum/curl", "--restart=Never", "-n", "critical-app", "--", "sleep", "3600");
        await Up.Kubectl.OutputAsync("wait", "--for=condition=Ready", "pod", "--all", "-n", "critical-app", "--timeout=120s");
        string ip = await Up.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        string[] backends = (await Up.Kubectl.OutputAsync("get", "pods", "-n", "critical-app", "-l", "role=backend", "-o", "jsonpath={.items[*].metadata.name}"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, backends.Length);

        // The pod's resolver asks kube-dns's ClusterIP; the proxy sends that to our DNS server in the node's namespace,
        // which answers the search path's backend.critical-app.svc.cluster.local with the ClusterIP.
        Assert.Equal("10.96.0.10", await Up.Kubectl.OutputAsync("get", "service", "kube-dns", "-n", "kube-system", "-o", "jsonpath={.spec.clusterIP}"));
        await Eventually.WaitAsync(
            async () => (await ExecAsync("getent", "hosts", "backend")).Stdout.StartsWith(ip + " ", StringComparison.Ordinal),
            "getent hosts backend in the client pod to print the ClusterIP");

        // The proxy writes the service's rules once its endpoints are ready; the first answer says they are there.
        var answeredBy = new HashSet<string>(StringComparer.Ordinal);
        await Eventually.WaitAsync(
            async () =>
            {
                var curl = await ExecAsync("curl", "-s", "--max-time", "2", "http://backend/");
                return curl.ExitCode == 0 && curl.Stdout.Contains("Welcome to nginx!", StringComparison.Ordinal);
            },
            "curl backend from the client pod to get nginx's page");

        // statistic --mode random over three endpoints: in 30 connections each pod answers (all but certainly).
        for (int i = 0; i < 30; i++)
        {
            var curl = await ExecAsync("curl", "-s", "--max-time", "2", "http://backend/");
            var served = System.Text.RegularExpressions.Regex.Match(curl.EnsureSuccess("curl in the client pod").Stdout, @"Served by pod (\S+) in namespace critical-app");
            Assert.True(served.Success, "nginx's page names its pod:\n" + curl.Stdout);
            answeredBy.Add(served.Groups[1].Value);
        }

        Assert.Equal(backends.Order(StringComparer.Ordinal), answeredBy.Order(StringComparer.Ordinal));
        string rules = (await ChildProcess.RunAsync("ip", ["netns", "exec", NodeNamespace(), "iptables", "-t", "nat", "-S"])).EnsureSuccess("iptables -S").Stdout;
        Assert.Matches(@"-A KUBE-SVC-\w+ .*critical-app/backend.* -m statistic --mode random --probability 0\.333", rules);

        // The proxy's syncs are in the process's one registry, which the API server's /metrics shows.
        PrometheusScrape metrics = PrometheusScrape.Parse(await Up.Kubectl.OutputAsync("get", "--raw", "/metrics"));
        Assert.True(metrics.Value("kubeproxy_sync_proxy_rules_duration_seconds_count") >= 2, "a full sync and the sync that wrote the backend's endpoints");
        Assert.True(metrics.Value("kubeproxy_sync_proxy_rules_last_service_ports") >= 2, "the kubernetes and backend service ports programmed");
    }

    [Fact]
    public async Task Run_it_gives_the_client_pods_prompt_where_curl_backend_reads_nginxs_page()
    {
        await Up.Kubectl.OutputAsync("create", "namespace", "critical-app");
        await Up.Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        await Eventually.WaitAsync(
            async () => (await Up.Kubectl.OutputAsync("get", "pods", "-n", "critical-app", "-l", "role=backend", "-o", "name")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 3,
            "the backend's three pods");
        await Up.Kubectl.OutputAsync("wait", "--for=condition=Ready", "pod", "-l", "role=backend", "-n", "critical-app", "--timeout=120s");

        // The seed's step literally, on a real terminal: kubectl creates the pod, waits for it, attaches to its bash.
        using var terminal = Up.Kubectl.StartOnTerminal("run", "-it", "--image=tutum/curl", "client", "--namespace", "critical-app", "--restart=Never");
        await terminal.Screen.WaitForAsync("root@client:/#", TimeSpan.FromSeconds(120));
        await Eventually.WaitAsync(async () =>
        {
            await terminal.TypeAsync("curl -s --max-time 2 backend; echo curl-$((1+1))-done\n");
            return (await terminal.Screen.WaitForAsync("curl-2-done", TimeSpan.FromSeconds(10))).Contains("Welcome to nginx!", StringComparison.Ordinal);
        }, "curl backend at the client pod's prompt to print nginx's page", TimeSpan.FromSeconds(60));
        Assert.Matches(@"Served by pod backend-\S+ in namespace critical-app", terminal.Screen.Text);
        await terminal.TypeAsync("exit\n");

        Assert.Equal(0, await terminal.WaitForExitAsync());
        Assert.Equal("Succeeded", await Up.Kubectl.OutputAsync("get", "pod", "client", "-n", "critical-app", "-o", "jsonpath={.status.phase}"));
    }

    private Task<ProcessResult> ExecAsync(params string[] command) =>
        SwitchboardUp.RunAsync(["exec", "--kubeconfig", Up.Kubectl.KubeconfigPath, "-n", "critical-app", "client", "--", .. command]);

    /// <summary>The node namespace of this <c>up</c>: the one whose name ends in its node's name and holds the bridge.</summary>
    private string NodeNamespace() =>
        Directory.EnumerateFiles("/run/netns").Select(Path.GetFileName)
            .Single(n => n!.StartsWith($"sb-{Node.ClusterNames.FromDataDirectory(Up.DataDirectory)}-", StringComparison.Ordinal) && !n.Contains('_', StringComparison.Ordinal))!;

    [Fact]
    public async Task Objects_and_cluster_ips_survive_a_clean_stop_and_a_kill()
    {
        await Up.Kubectl.OutputAsync("create", "namespace", "critical-app");
        await Up.Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        string ip = await Up.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");

        await Up.DownAsync();
        Assert.False(File.Exists(Path.Combine(Up.DataDirectory, "switchboard.pid")), "switchboard down leaves no pid file");
        await Up.RestartAsync();
        Assert.Equal(ip, await Up.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}"));

        await Up.KillAsync();
        await Up.RestartAsync();
        Assert.Equal(ip, await Up.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}"));

        // The allocator's state survived too: a new service never gets the address already handed out.
        string otherFile = Path.Combine(Up.DataDirectory, "other.yaml");
        await File.WriteAllTextAsync(otherFile, "apiVersion: v1\nkind: Service\nmetadata:\n  name: other\nspec:\n  ports:\n  - port: 80\n");
        await Up.Kubectl.OutputAsync("create", "-f", otherFile, "-n", "critical-app");
        string otherIp = await Up.Kubectl.OutputAsync("get", "service", "other", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        Assert.Matches(@"^10\.96\.\d+\.\d+$", otherIp);
        Assert.NotEqual(ip, otherIp);
    }

    [Fact]
    public async Task A_second_up_on_the_same_data_dir_is_refused_and_down_says_when_nothing_runs()
    {
        var second = await SwitchboardUp.RunAsync("up", "--data-dir", Up.DataDirectory, "--api-port", FreePort.Next().ToString(CultureInfo.InvariantCulture));
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("already running", second.Stdout + second.Stderr);

        await Up.DownAsync();
        var again = await SwitchboardUp.RunAsync("down", "--data-dir", Up.DataDirectory);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("not running", again.Stdout);
    }

    [Fact]
    public async Task Bad_flags_get_a_clear_error_and_start_nothing()
    {
        var result = await SwitchboardUp.RunAsync("up", "--data-dir", Up.DataDirectory, "--store", "postgres://x");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("neither 'sqlite' nor 'etcd://", result.Stderr);

        var nodes = await SwitchboardUp.RunAsync("up", "--data-dir", Up.DataDirectory, "--nodes", "201");
        Assert.NotEqual(0, nodes.ExitCode);
        Assert.Contains("--nodes must be between 0 and", nodes.Stderr);
    }
}
