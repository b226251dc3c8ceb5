using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary><c>switchboard trace</c> against <c>switchboard up</c>: the walkthrough's client pod resolving names, seen from DNS.</summary>
public sealed class TraceTests : SwitchboardUpTestBase
{
    [Fact]
    public async Task A_pods_lookup_shows_its_search_path_attempts_in_order_and_the_filters_and_last_pick_events()
    {
        await Up.Kubectl.OutputAsync("create", "namespace", "critical-app");
        await Up.Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        await Up.Kubectl.OutputAsync("run", "client", "--image=tutum/curl", "--restart=Never", "-n", "critical-app", "--", "sleep", "3600");
        await Up.Kubectl.OutputAsync("wait", "--for=condition=Ready", "pod", "client", "-n", "critical-app", "--timeout=120s");
        string ip = await Up.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        string podIp = await Up.Kubectl.OutputAsync("get", "pod", "client", "-n", "critical-app", "-o", "jsonpath={.status.podIP}");

        // One dot, fewer than ndots:5: the resolver tries the search path first, so the pod's namespace comes first.
        await Eventually.WaitAsync(
            async () => (await ExecAsync("getent", "ahostsv4", "backend.critical-app")).Stdout.StartsWith(ip + " ", StringComparison.Ordinal),
            "getent ahostsv4 backend.critical-app in the client pod to print the ClusterIP");
        Assert.NotEqual(0, (await ExecAsync("getent", "ahostsv4", "nosuch")).ExitCode);

        // After the fact: the last 20 of the client's events, as JSON.
        JsonObject[] events = await TraceJsonAsync("--last", "20", "-n", "critical-app", "--pod", "client");
        Assert.InRange(events.Length, 1, 20);
        Assert.All(events, e => Assert.Equal(("critical-app", "client", podIp), ((string?)e["client"]!["pod"]!["namespace"], (string?)e["client"]!["pod"]!["name"], (string?)e["client"]!["ip"])));
        string[] asked = [.. events.Where(e => (string?)e["qtype"] == "A").Select(e => (string)e["name"]!)];
        int first = Array.LastIndexOf(asked, "backend.critical-app.critical-app.svc.cluster.local.");
        Assert.True(first >= 0, "the first search-path attempt, in the pod's namespace:\n" + string.Join('\n', asked));
        Assert.Equal("backend.critical-app.svc.cluster.local.", asked[first + 1]);
        JsonObject miss = events.Last(e => (string?)e["name"] == "backend.critical-app.critical-app.svc.cluster.local." && (string?)e["qtype"] == "A");
        Assert.Equal(("NXDOMAIN", "NXDOMAIN", "cluster"), ((string?)miss["rcode"], (string?)miss["verdict"], (string?)miss["source"]));
        JsonObject hit = events.Last(e => (string?)e["name"] == "backend.critical-app.svc.cluster.local." && (string?)e["qtype"] == "A");
        Assert.Equal(("NOERROR", "ANSWERED", "cluster"), ((string?)hit["rcode"], (string?)hit["verdict"], (string?)hit["source"]));
        Assert.Equal(ip, (string?)hit["answers"]![0]!["data"]);
        Assert.Equal("A", (string?)hit["answers"]![0]!["type"]);
        Assert.True((double)hit["latencyMs"]! >= 0);

        // The name that exists nowhere: every search-path attempt is NXDOMAIN, in order.
        string[] nosuch = [.. events.Where(e => (string?)e["qtype"] == "A" && ((string)e["name"]!).StartsWith("nosuch.", StringComparison.Ordinal)).Select(e => (string)e["name"]!)];
        Assert.Equal(["nosuch.critical-app.svc.cluster.local.", "nosuch.svc.cluster.local.", "nosuch.cluster.local."], nosuch.Take(3));

        // Filters: verdict, service, namespace, pod, protocol.
        JsonObject[] nxdomain = await TraceJsonAsync("--last", "100", "--verdict", "NXDOMAIN");
        Assert.NotEmpty(nxdomain);
        Assert.All(nxdomain, e => Assert.Equal("NXDOMAIN", (string?)e["verdict"]));
        Assert.Contains(nxdomain, e => (string?)e["name"] == "nosuch.cluster.local.");

        JsonObject[] backend = await TraceJsonAsync("--last", "100", "--service", "critical-app/backend");
        Assert.NotEmpty(backend);
        Assert.All(backend, e => Assert.StartsWith("backend.critical-app.svc.", (string?)e["name"], StringComparison.Ordinal));

        // (The client's connections to kube-dns are kube-system's too: a connection matches by its service's namespace.)
        Assert.DoesNotContain(await TraceJsonAsync("--last", "100", "-n", "kube-system", "--protocol", "dns"), e => (string?)e["client"]?["pod"]?["name"] == "client");
        Assert.Empty(await TraceJsonAsync("--last", "100", "--pod", "critical-app/not-a-pod"));
        Assert.DoesNotContain(await TraceJsonAsync("--last", "100", "--pod", "client", "-n", "critical-app", "--protocol", "tcp"), e => (string?)e["type"] == "dns");
        Assert.NotEmpty(await TraceJsonAsync("--last", "100", "--pod", "client", "-n", "critical-app", "--protocol", "udp"));
        Assert.NotEmpty(await TraceJsonAsync("--last", "100", "--pod", "client", "-n", "critical-app", "--since", "10m"));

        // Text: one line per event, with the pod, the name and type, where the answer came from, the verdict and answer.
        var text = await SwitchboardUp.RunAsync("trace", "--kubeconfig", Up.Kubectl.KubeconfigPath, "--last", "20", "--service", "critical-app/backend");
        Assert.Matches(
            $@"critical-app/client \({Regex(podIp)}:\d+\) DNS A backend\.critical-app\.svc\.cluster\.local\. from cluster: ANSWERED A {Regex(ip)} [\d.]+ms",
            text.EnsureSuccess("switchboard trace").Stdout);

        // Bad flags are refused with a reason.
        var bad = await SwitchboardUp.RunAsync("trace", "--kubeconfig", Up.Kubectl.KubeconfigPath, "--protocol", "icmp");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("icmp", bad.Stderr);
    }

    [Fact]
    public async Task Following_shows_new_lookups_and_a_slow_reader_loses_events_counted_while_dns_keeps_answering()
    {
        // -f prints what happens after it starts.
        using (var follow = RunningProcess.Start(SwitchboardUp.Program, SwitchboardUp.Arguments("trace", "--kubeconfig", Up.Kubectl.KubeconfigPath, "-f", "--service", "default/kubernetes")))
        {
            await Eventually.WaitAsync(
                async () =>
                {
                    await AskAsync("kubernetes.default.svc.cluster.local", 1);
                    return follow.StandardOutputLines.Any(l => l.Contains("DNS A kubernetes.default.svc.cluster.local. from cluster: ANSWERED A 10.96.0.1", StringComparison.Ordinal));
                },
                "the followed trace to show a lookup made after it started");
        }

        // A reader that reads nothing: the server keeps answering, its buffer moves on, and the reader is told how much it lost.
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(Up.Kubectl.KubeconfigPath);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);
        Task<HttpResponseMessage> opened = http.GetAsync(
            new Uri(new Uri(config.Host), "/api/v1/namespaces/kube-system/services/kube-dns:metrics/proxy/trace?follow=true"), HttpCompletionOption.ResponseHeadersRead);
        await Eventually.WaitAsync(async () => { await AskAsync("kubernetes.default.svc.cluster.local", 1); return opened.IsCompleted; }, "the trace stream to start");
        using HttpResponseMessage stalled = await opened;
        Assert.Equal(HttpStatusCode.OK, stalled.StatusCode);

        // Far more answers than the buffer (4096) and every socket buffer on the way hold: the stream cannot keep up.
        const int Sent = 200_000;
        Assert.Equal(Sent, await AskAsync("kubernetes.default.svc.cluster.local", Sent));

        using var reader = new StreamReader(await stalled.Content.ReadAsStreamAsync());
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        long lost = 0;
        while (lost == 0 && await reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (JsonNode.Parse(line) is JsonObject e && (string?)e["type"] == "lost")
            {
                lost = (long)e["lost"]!;
            }
        }

        Assert.InRange(lost, 1, Sent);
        using var metrics = new HttpClient();
        string scrape = await metrics.GetStringAsync(new Uri($"http://127.0.0.1:{Up.DnsMetricsPort}/metrics"));
        Assert.True(PrometheusScrape.Parse(scrape).Value("switchboard_dns_trace_lost_events_total") >= lost, "the lost events counted in DNS's metrics");
    }

    private Task<ProcessResult> ExecAsync(params string[] command) =>
        SwitchboardUp.RunAsync(["exec", "--kubeconfig", Up.Kubectl.KubeconfigPath, "-n", "critical-app", "client", "--", .. command]);

    private async Task<JsonObject[]> TraceJsonAsync(params string[] args)
    {
        var result = await SwitchboardUp.RunAsync(["trace", "--kubeconfig", Up.Kubectl.KubeconfigPath, "-o", "json", .. args]);
        return [.. result.EnsureSuccess("switchboard trace " + string.Join(' ', args)).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => (JsonObject)JsonNode.Parse(line)!)];
    }

    /// <summary>Asks the host's DNS port for <paramref name="name"/> <paramref name="count"/> times, 64 in flight; returns the answers received.</summary>
    private async Task<int> AskAsync(string name, int count)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, Up.DnsPort));
        byte[] query = Query(name);
        byte[] response = new byte[1500];
        int answered = 0;
        for (int done = 0; done < count;)
        {
            int window = Math.Min(64, count - done);
            for (int i = 0; i < window; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(query, (ushort)(done + i));
                await socket.SendAsync(query, SocketFlags.None);
            }

            try
            {
                for (int i = 0; i < window; i++)
                {
                    socket.Receive(response);
                    answered++;
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                // Counted as unanswered.
            }

            done += window;
        }

        return answered;
    }

    private static byte[] Query(string name)
    {
        var message = new List<byte> { 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (string label in name.Split('.'))
        {
            message.Add((byte)label.Length);
            message.AddRange(Encoding.ASCII.GetBytes(label));
        }

        message.AddRange([0, 0, 1, 0, 1]);
        return [.. message];
    }

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}
