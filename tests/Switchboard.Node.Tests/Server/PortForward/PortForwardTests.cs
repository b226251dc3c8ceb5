using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Server.PortForward;

/// <summary>
/// The node's <c>/portForward</c> as the API server reaches it (a client certificate of the cluster CA), in each of
/// its three protocols, forwarding to the echo image (agnhost netexec's HTTP) inside a real pod.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class PortForwardTests(NodeFixture fixture) : IDisposable
{
    private const int EchoPort = 8080;
    private readonly NodeTls _tls = new(fixture.Server.DataDirectory);

    public void Dispose() => _tls.Dispose();

    [Fact]
    public async Task The_WebSocket_tunnel_carries_HTTP_both_ways_and_echoes_pings()
    {
        const string ns = "t-pf-tunnel";
        await EchoPodAsync(ns);
        await using var client = await SpdyPortForwardClient.ConnectWebSocketAsync(await NodePortAsync(), $"/portForward/{ns}/echo", _tls);

        var hostname = await client.OpenAsync(EchoPort);
        await hostname.SendAsync("GET /hostname HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n");
        string response = await hostname.ReceiveAllAsync();
        Assert.StartsWith("HTTP/1.1 200 OK", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\necho", response, StringComparison.Ordinal);
        await hostname.ResetAsync();
        Assert.Equal("", await hostname.ErrorAsync());

        // A body far larger than one DATA frame goes up and comes back whole.
        string message = string.Concat(Enumerable.Range(0, 40_000).Select(i => (char)('a' + (i * 7 % 26))));
        string form = "msg=" + message;
        var echo = await client.OpenAsync(EchoPort);
        await echo.SendAsync($"POST /echo HTTP/1.1\r\nHost: echo\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {form.Length}\r\n\r\n{form}");
        await echo.CloseWriteAsync();
        response = await echo.ReceiveAllAsync();
        Assert.StartsWith("HTTP/1.1 200 OK", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n" + message, response, StringComparison.Ordinal);
        Assert.Equal("", await echo.ErrorAsync());

        await client.PingAsync(1);
        await client.PingAsync(3);
    }

    [Fact]
    public async Task A_hundred_requests_over_ten_parallel_connections_share_one_SPDY_connection()
    {
        const string ns = "t-pf-parallel";
        await EchoPodAsync(ns);
        await using var client = await SpdyPortForwardClient.ConnectWebSocketAsync(await NodePortAsync(), $"/portForward/{ns}/echo", _tls);

        using var slots = new SemaphoreSlim(10);
        var answers = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            await slots.WaitAsync();
            try
            {
                var connection = await client.OpenAsync(EchoPort);
                await connection.SendAsync($"GET /echo?msg=request-{i} HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n");
                string response = await connection.ReceiveAllAsync();
                await connection.ResetAsync();
                Assert.Equal("", await connection.ErrorAsync());
                return response;
            }
            finally
            {
                slots.Release();
            }
        }));

        for (int i = 0; i < answers.Length; i++)
        {
            Assert.StartsWith("HTTP/1.1 200 OK", answers[i], StringComparison.Ordinal);
            Assert.EndsWith($"\r\n\r\nrequest-{i}", answers[i], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_refused_port_is_reported_on_its_error_stream_and_the_next_connection_works()
    {
        const string ns = "t-pf-refused";
        await EchoPodAsync(ns);
        await using var client = await SpdyPortForwardClient.ConnectWebSocketAsync(await NodePortAsync(), $"/portForward/{ns}/echo", _tls);

        var refused = await client.OpenAsync(9);
        string error = await refused.ErrorAsync();
        Assert.Contains("error forwarding port 9 to pod echo_t-pf-refused", error, StringComparison.Ordinal);
        Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", await refused.ReceiveAllAsync());

        var good = await client.OpenAsync(EchoPort);
        await good.SendAsync("GET /echo?msg=still-here HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n");
        Assert.EndsWith("\r\n\r\nstill-here", await good.ReceiveAllAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_raw_SPDY_upgrade_kubectl_falls_back_to_forwards_too()
    {
        const string ns = "t-pf-spdy";
        await EchoPodAsync(ns);
        int port = await NodePortAsync();
        await using var client = await SpdyPortForwardClient.ConnectSpdyAsync(port, $"/portForward/{ns}/echo", _tls);

        var connection = await client.OpenAsync(EchoPort);
        await connection.SendAsync("GET /hostname HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n");
        Assert.EndsWith("\r\n\r\necho", await connection.ReceiveAllAsync(), StringComparison.Ordinal);
        await client.PingAsync(5);
    }

    [Fact]
    public async Task The_WebSocket_channel_protocol_forwards_for_KubernetesClients_demuxer()
    {
        const string ns = "t-pf-channels";
        var pod = await EchoPodAsync(ns);
        var uri = new Uri($"wss://127.0.0.1:{await NodePortAsync()}/portForward/{ns}/echo/{pod.Metadata.Uid}?port={EchoPort}");
        using var webSocket = new ClientWebSocket();
        webSocket.Options.AddSubProtocol("v4.channel.k8s.io");
        webSocket.Options.ClientCertificates.Add(_tls.Client);
        webSocket.Options.RemoteCertificateValidationCallback = (_, server, _, _) => _tls.Trusts(server);
        await webSocket.ConnectAsync(uri, CancellationToken.None);

        using var demuxer = new StreamDemuxer(webSocket, StreamType.PortForward);
        demuxer.Start();
        using var stream = demuxer.GetStream((byte?)0, (byte?)0);
        byte[] request = Encoding.ASCII.GetBytes("GET /echo?msg=through-channels HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request);
        string response = await ReadUntilAsync(stream, "through-channels");
        Assert.StartsWith("HTTP/1.1 200 OK", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_it_cannot_serve_get_kubelets_Status_errors()
    {
        const string ns = "t-pf-errors";
        await EchoPodAsync(ns);
        int port = await NodePortAsync();
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, server, _, _) => _tls.Trusts(server) };
        handler.ClientCertificates.Add(_tls.Client);
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

        await AssertStatusAsync(await http.GetAsync(new Uri($"/portForward/{ns}/nobody", UriKind.Relative)), HttpStatusCode.NotFound, "pod \"nobody\" not found");
        await AssertStatusAsync(await http.GetAsync(new Uri($"/portForward/{ns}/echo", UriKind.Relative)), HttpStatusCode.BadRequest, "needs an upgrade");

        using var channelsWithoutPorts = new ClientWebSocket();
        channelsWithoutPorts.Options.ClientCertificates.Add(_tls.Client);
        channelsWithoutPorts.Options.RemoteCertificateValidationCallback = (_, server, _, _) => _tls.Trusts(server);
        channelsWithoutPorts.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => channelsWithoutPorts.ConnectAsync(new Uri($"wss://127.0.0.1:{port}/portForward/{ns}/echo"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, channelsWithoutPorts.HttpStatusCode);
    }

    [Fact]
    public async Task Kubectl_port_forward_to_a_pod_serves_a_hundred_requests_over_ten_parallel_connections_and_a_POST()
    {
        const string ns = "t-pf-kubectl";
        await EchoPodAsync(ns);
        using var kubectl = fixture.Server.Kubectl.Start("port-forward", "-n", ns, "pod/echo", $":{EchoPort}");
        using var http = LocalClient(await LocalPortAsync(kubectl, EchoPort));

        string[] bodies = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => http.GetStringAsync(new Uri($"/echo?msg=request-{i}", UriKind.Relative))));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"request-{i}"), bodies);

        string message = string.Concat(Enumerable.Range(0, 100_000).Select(i => (char)('a' + (i * 11 % 26))));
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("msg", message)]);
        using var posted = await http.PostAsync(new Uri("/echo", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal(message, await posted.Content.ReadAsStringAsync());
        Assert.False(kubectl.HasExited, kubectl.Output);
    }

    [Fact]
    public async Task Kubectl_port_forward_to_a_service_reaches_its_pod_and_so_does_its_SPDY_fallback()
    {
        const string ns = "t-pf-kubectl-svc";
        await EchoPodAsync(ns);
        await fixture.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "echo" },
            Spec = new V1ServiceSpec
            {
                Selector = new Dictionary<string, string> { ["app"] = "echo" },
                Ports = [new V1ServicePort { Port = 80, TargetPort = EchoPort }],
            },
        }, ns);
        using (var kubectl = fixture.Server.Kubectl.Start("port-forward", "-n", ns, "svc/echo", ":80"))
        {
            using var http = LocalClient(await LocalPortAsync(kubectl, EchoPort));
            Assert.Equal("echo", await http.GetStringAsync(new Uri("/hostname", UriKind.Relative)));
        }

        using var spdy = RunningProcess.Start("kubectl", ["port-forward", "-n", ns, "svc/echo", ":80"], new Dictionary<string, string>
        {
            ["KUBECONFIG"] = fixture.Server.Kubectl.KubeconfigPath,
            ["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = "false",
        });
        using var fallback = LocalClient(await LocalPortAsync(spdy, EchoPort));
        Assert.Equal("echo", await fallback.GetStringAsync(new Uri("/hostname", UriKind.Relative)));
    }

    /// <summary>
    /// kubectl prints the error the node writes on that connection's error stream. (kubectl 1.32 then closes its
    /// whole SPDY connection and exits, "lost connection to pod", as it does against kubelet: client-go's choice. The
    /// node keeps serving the connection, which the SPDY test above shows.)
    /// </summary>
    [Fact]
    public async Task Kubectl_reports_a_port_the_pod_refuses()
    {
        const string ns = "t-pf-kubectl-refused";
        await EchoPodAsync(ns);
        using var kubectl = fixture.Server.Kubectl.Start("port-forward", "-n", ns, "pod/echo", ":9");
        using var http = LocalClient(await LocalPortAsync(kubectl, 9));

        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync(new Uri("/", UriKind.Relative)));
        string line = await kubectl.WaitForLineAsync(l => l.Contains("an error occurred forwarding", StringComparison.Ordinal), "the refused connection's error");
        Assert.Contains("-> 9: error forwarding port 9 to pod echo_t-pf-kubectl-refused", line, StringComparison.Ordinal);
        Assert.Contains("refused", line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task KubernetesClients_port_forward_through_the_API_server_reaches_the_pod()
    {
        const string ns = "t-pf-csharp";
        await EchoPodAsync(ns);
        using var webSocket = await fixture.Client.WebSocketNamespacedPodPortForwardAsync("echo", ns, [EchoPort], "v4.channel.k8s.io");
        using var demuxer = new StreamDemuxer(webSocket, StreamType.PortForward);
        demuxer.Start();
        using var stream = demuxer.GetStream((byte?)0, (byte?)0);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /echo?msg=via-the-api-server HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200 OK", await ReadUntilAsync(stream, "via-the-api-server"), StringComparison.Ordinal);
    }

    /// <summary>The local port kubectl chose for <paramref name="remotePort"/> (it prints <c>Forwarding from 127.0.0.1:N -> R</c>).</summary>
    private static async Task<int> LocalPortAsync(RunningProcess kubectl, int remotePort)
    {
        const string prefix = "Forwarding from 127.0.0.1:";
        string line = await kubectl.WaitForLineAsync(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.EndsWith($"-> {remotePort}", StringComparison.Ordinal), "its listening port");
        return int.Parse(line[prefix.Length..line.IndexOf(' ', prefix.Length)], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>An HTTP client of kubectl's local port, ten connections at most.</summary>
    private static HttpClient LocalClient(int port) =>
        new(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 10 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };

    private static async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode code, string message)
    {
        Assert.Equal(code, response.StatusCode);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal((int)code, (int?)status["code"]);
        Assert.Contains(message, (string?)status["message"], StringComparison.Ordinal);
    }

    private static async Task<string> ReadUntilAsync(Stream stream, string end)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var text = new StringBuilder();
        byte[] buffer = new byte[4096];
        while (!text.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            int read = await stream.ReadAsync(buffer, timeout.Token);
            Assert.NotEqual(0, read);
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    private async Task<V1Pod> EchoPodAsync(string ns)
    {
        await fixture.CreateNamespaceAsync(ns);
        return await fixture.RunPodAsync(ns, new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "echo", Labels = new Dictionary<string, string> { ["app"] = "echo" } },
            Spec = new V1PodSpec
            {
                TerminationGracePeriodSeconds = 1,
                Containers =
                [
                    new V1Container
                    {
                        Name = "echo",
                        Image = "switchboard/echo",
                        Ports = [new V1ContainerPort { Name = "http", ContainerPort = EchoPort }],
                        ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = "http" }, PeriodSeconds = 1 },
                    },
                ],
            },
        });
    }

    /// <summary>The node's HTTPS port from its Node object, as the API server finds it.</summary>
    private async Task<int> NodePortAsync() =>
        (await fixture.Client.CoreV1.ReadNodeAsync(fixture.Options.NodeName)).Status.DaemonEndpoints.KubeletEndpoint.Port;
}
