using System.Text.Json.Nodes;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// <c>switchboard trace</c>'s connection events against <c>switchboard up</c> in each proxy mode: the walkthrough's
/// client running <c>curl backend</c> shows its query, then its connection to the ClusterIP sent to a named backend pod;
/// a service without endpoints shows REJECTED (kernel modes).
/// </summary>
public sealed class ConnectionTraceTests
{
    [Fact]
    public async Task Iptables_curl_backend_shows_the_query_then_the_connection_to_a_backend_pod_and_filters_metrics_and_rejects_work()
    {
        await using var up = await SwitchboardUp.StartAsync("--proxy-mode", "iptables");
        var walk = await WalkthroughAsync(up, rejects: true, byName: true);

        // Filters: protocol, verdict, service, namespace, pod (either end of a connection).
        JsonObject[] tcp = await TraceJsonAsync(up, "--last", "100", "--protocol", "tcp");
        Assert.NotEmpty(tcp);
        Assert.All(tcp, e => Assert.Equal("tcp", (string?)e["type"]));
        JsonObject[] dns = await TraceJsonAsync(up, "--last", "100", "--protocol", "dns", "-n", "critical-app");
        Assert.NotEmpty(dns);
        Assert.All(dns, e => Assert.Equal("dns", (string?)e["type"]));
        JsonObject[] rejected = await TraceJsonAsync(up, "--last", "100", "--verdict", "REJECTED");
        Assert.NotEmpty(rejected);
        Assert.All(rejected, e => Assert.Equal(("REJECTED", "nothing"), ((string?)e["verdict"], (string?)e["service"]?["name"])));
        JsonObject[] backend = await TraceJsonAsync(up, "--last", "100", "--service", "critical-app/backend", "--protocol", "tcp");
        Assert.NotEmpty(backend);
        Assert.All(backend, e => Assert.Equal("backend", (string?)e["service"]?["name"]));
        string endpointPod = (string)walk.Connection["endpoint"]!["pod"]!["name"]!;
        JsonObject[] toPod = await TraceJsonAsync(up, "--last", "100", "--pod", "critical-app/" + endpointPod);
        Assert.NotEmpty(toPod);
        Assert.All(toPod, e => Assert.Equal(endpointPod, (string?)e["endpoint"]?["pod"]?["name"] ?? (string?)e["client"]?["pod"]?["name"]));
        Assert.DoesNotContain(await TraceJsonAsync(up, "--last", "100", "-n", "kube-system", "--protocol", "tcp"), e => (string?)e["service"]?["name"] == "backend");
        Assert.Empty(await TraceJsonAsync(up, "--last", "100", "--pod", "critical-app/client", "--verdict", "SERVFAIL"));

        // Text: the connection with its service and the endpoint pod by name.
        var text = await SwitchboardUp.RunAsync("trace", "--kubeconfig", up.Kubectl.KubeconfigPath, "--last", "20", "--service", "critical-app/backend", "--protocol", "tcp");
        Assert.Matches(
            $@"critical-app/client \({Regex(walk.ClientIp)}:\d+\) TCP open -> critical-app/backend \({Regex(walk.ClusterIp)}:80\) => critical-app/backend-[a-z0-9-]+ \([\d.]+:80\): FORWARDED",
            text.EnsureSuccess("switchboard trace").Stdout);

        // Flow metrics on the proxy's metrics port: by service and verdict, and the endpoints chosen.
        using var http = new HttpClient();
        var scrape = PrometheusScrape.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{up.ProxyMetricsPort}/metrics")));
        Assert.True(scrape.Sum("switchboard_proxy_flows_total", ("namespace", "critical-app"), ("service", "backend"), ("verdict", "FORWARDED")) >= 1);
        Assert.True(scrape.Sum("switchboard_proxy_flows_total", ("namespace", "critical-app"), ("service", "nothing"), ("verdict", "REJECTED")) >= 1);
        Assert.True(scrape.Sum(
            "switchboard_proxy_flow_endpoints_total", ("namespace", "critical-app"), ("service", "backend"), ("endpoint", (string)walk.Connection["endpoint"]!["ip"]! + ":80")) >= 1);
    }

    [Fact]
    public async Task Nftables_curl_backend_shows_the_connection_to_a_backend_pod_and_a_service_without_endpoints_is_rejected()
    {
        await using var up = await SwitchboardUp.StartAsync("--proxy-mode", "nftables");
        await WalkthroughAsync(up, rejects: true, byName: true);
    }

    [Fact]
    public async Task Userspace_curl_backend_shows_the_connection_the_relay_made_to_a_backend_pod()
    {
        await using var up = await SwitchboardUp.StartAsync("--proxy-mode", "userspace");
        // By address: in up's userspace mode the pods' resolver cannot reach kube-dns (the relay cannot bind
        // 10.96.0.10:53 beside the DNS server's 0.0.0.0:53 in the node namespace), which is not the trace's to fix.
        var walk = await WalkthroughAsync(up, rejects: false, byName: false);
        Assert.Equal("userspace", (string?)walk.Connection["source"]);

        // The relay's close: the same connection, with its duration and the bytes it copied each way (the page back).
        await Eventually.WaitAsync(
            async () => (await TraceJsonAsync(up, "--last", "20", "--service", "critical-app/backend", "--protocol", "tcp")).Any(e =>
                (string?)e["event"] == "close" && (int?)e["client"]?["port"] == (int?)walk.Connection["client"]!["port"]
                && (double?)e["durationMs"] >= 0 && (long?)e["bytes"]?["sent"] > 0 && (long?)e["bytes"]?["received"] > 0),
            "the relay's close of the client's connection, with its bytes");
    }

    /// <summary>
    /// The walkthrough's namespace, backend and client; <c>curl backend</c> (and <c>curl nothing</c>, a service without
    /// endpoints) from the client; then <c>--last 20</c> after the fact: the A query for backend answered with the
    /// ClusterIP, and after it the client's connection to ClusterIP:80 opened to one of the three backend pods, named.
    /// </summary>
    private static async Task<(string ClientIp, string ClusterIp, JsonObject Connection)> WalkthroughAsync(SwitchboardUp up, bool rejects, bool byName)
    {
        await up.Kubectl.OutputAsync("create", "namespace", "critical-app");
        await up.Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        await up.Kubectl.OutputAsync("create", "service", "clusterip", "nothing", "--tcp=80:80", "-n", "critical-app");
        await up.Kubectl.OutputAsync("run", "client", "--image=tutum/curl", "--restart=Never", "-n", "critical-app", "--", "sleep", "3600");
        await up.Kubectl.OutputAsync("wait", "--for=condition=Ready", "pod", "client", "-n", "critical-app", "--timeout=120s");
        await up.Kubectl.OutputAsync("wait", "--for=condition=Ready", "pod", "-l", "role=backend", "-n", "critical-app", "--timeout=120s");
        string clusterIp = await up.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        string clientIp = await up.Kubectl.OutputAsync("get", "pod", "client", "-n", "critical-app", "-o", "jsonpath={.status.podIP}");
        string[] backends = (await up.Kubectl.OutputAsync("get", "pods", "-l", "role=backend", "-n", "critical-app", "-o", "jsonpath={.items[*].metadata.name}")).Split(' ');
        Assert.Equal(3, backends.Length);

        string url = byName ? "backend" : "http://" + clusterIp;
        await Eventually.WaitAsync(async () => (await ExecAsync(up, "curl", "-s", "-m", "5", url)).ExitCode == 0, $"curl {url} from the client pod");
        if (rejects)
        {
            Assert.NotEqual(0, (await ExecAsync(up, "curl", "-s", "-m", "5", "nothing")).ExitCode);
        }

        JsonObject[] events = [];
        await Eventually.WaitAsync(
            async () =>
            {
                events = await TraceJsonAsync(up, "--last", "20", "-n", "critical-app", "--pod", "client");
                return events.Any(e => (string?)e["type"] == "tcp" && (string?)e["event"] == "open" && (string?)e["service"]?["name"] == "backend")
                    && (!rejects || events.Any(e => (string?)e["verdict"] == "REJECTED"));
            },
            "the trace to show the client's connection to backend" + (rejects ? " and the one to nothing rejected" : ""));

        int query = Array.FindLastIndex(events, e => (string?)e["type"] == "dns" && (string?)e["name"] == "backend.critical-app.svc.cluster.local." && (string?)e["qtype"] == "A");
        if (byName)
        {
            Assert.True(query >= 0, "the query for backend:\n" + string.Join('\n', events.Select(e => e.ToJsonString())));
            Assert.Equal(clusterIp, (string?)events[query]["answers"]![0]!["data"]);
        }

        int connection = Array.FindIndex(events, query + 1, e => (string?)e["type"] == "tcp" && (string?)e["event"] == "open" && (string?)e["service"]?["name"] == "backend");
        Assert.True(connection > query, "the connection after the query:\n" + string.Join('\n', events.Select(e => e.ToJsonString())));
        JsonObject open = events[connection];
        Assert.Equal((clientIp, "client"), ((string?)open["client"]!["ip"], (string?)open["client"]!["pod"]!["name"]));
        Assert.Equal((clusterIp, 80), ((string?)open["destination"]!["ip"], (int?)open["destination"]!["port"]));
        Assert.Equal(("critical-app", "backend", "FORWARDED"), ((string?)open["service"]!["namespace"], (string?)open["service"]!["name"], (string?)open["verdict"]));
        Assert.True(open["endpoint"]?["pod"] is not null, "the endpoint pod named: " + open.ToJsonString());
        Assert.Contains((string?)open["endpoint"]!["pod"]!["name"], backends);
        Assert.Equal(80, (int?)open["endpoint"]!["port"]);
        if (rejects)
        {
            JsonObject refused = events.Last(e => (string?)e["verdict"] == "REJECTED");
            Assert.Equal(("tcp", "rejected", "nothing", 80), ((string?)refused["type"], (string?)refused["event"], (string?)refused["service"]!["name"], (int?)refused["destination"]!["port"]));
            Assert.Null(refused["endpoint"]);
        }

        return (clientIp, clusterIp, open);
    }

    private static Task<ProcessResult> ExecAsync(SwitchboardUp up, params string[] command) =>
        SwitchboardUp.RunAsync(["exec", "--kubeconfig", up.Kubectl.KubeconfigPath, "-n", "critical-app", "client", "--", .. command]);

    private static async Task<JsonObject[]> TraceJsonAsync(SwitchboardUp up, params string[] args)
    {
        var result = await SwitchboardUp.RunAsync(["trace", "--kubeconfig", up.Kubectl.KubeconfigPath, "-o", "json", .. args]);
        return [.. result.EnsureSuccess("switchboard trace " + string.Join(' ', args)).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => (JsonObject)JsonNode.Parse(line)!)];
    }

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}
