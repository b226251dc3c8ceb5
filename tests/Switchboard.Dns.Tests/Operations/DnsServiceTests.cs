using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Dns.Tests.Support;
using Switchboard.Kube.Hosting;
using Switchboard.Storage;
using Switchboard.Testing;

namespace Switchboard.Dns.Tests.Operations;

/// <summary>The whole DNS service as <c>switchboard dns</c> runs it, against a real API server and its store.</summary>
public sealed class DnsServiceTests(InProcessApiServer api) : IClassFixture<InProcessApiServer>, IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly CapturingLoggerFactory _logs = new();
    private readonly FakeUpstream _upstream = new((name, _) => FakeReply.Address(60, "192.0.2.44"));
    private ComponentTestHost? _host;

    private DnsService Service => _host!.Get<DnsService>();

    private IPEndPoint Dns => Service.EndPoints[0];

    public async Task InitializeAsync()
    {
        var options = new DnsServiceOptions
        {
            Listen = [new IPEndPoint(IPAddress.Loopback, 0)],
            OperationsEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Upstreams = [_upstream.EndPoint],
            QueryLog = true,
            UdpSockets = 1,
        };
        _host = await ComponentTestHost.StartAsync(services => services.AddKubeClient(api.KubeconfigPath).AddClusterDns(options, api.Store), logs: _logs);
        await Eventually.WaitAsync(async () => (await GetAsync("/ready")).Status == HttpStatusCode.OK, "/ready answering 200");
    }

    public async Task DisposeAsync()
    {
        await _host!.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Health_ready_and_metrics_count_requests_by_type_and_rcode_with_cache_hits()
    {
        await Dig.RunAsync(Dns, "kubernetes.default.svc.cluster.local", "A");
        await Dig.RunAsync(Dns, "nothing.default.svc.cluster.local", "AAAA");
        await Dig.RunAsync(Dns, "www.example.net", "A");
        await Dig.RunAsync(Dns, "www.example.net", "A");

        (HttpStatusCode health, string healthBody) = await GetAsync("/health");
        (HttpStatusCode metricsStatus, string metrics) = await GetAsync("/metrics");

        Assert.Equal((HttpStatusCode.OK, "OK"), (health, healthBody));
        Assert.Equal(HttpStatusCode.OK, metricsStatus);
        PrometheusScrape scrape = PrometheusScrape.Parse(metrics);
        Assert.Equal(3, scrape.Value("switchboard_dns_requests_total", ("type", "A"), ("rcode", "NOERROR")));
        Assert.Equal(1, scrape.Value("switchboard_dns_requests_total", ("type", "AAAA"), ("rcode", "NXDOMAIN")));
        Assert.Equal(1, scrape.Value("switchboard_dns_cache_hits_total"));
        Assert.Equal(1, scrape.Value("switchboard_dns_cache_misses_total"));
        Assert.Equal(4, scrape.Value("switchboard_dns_request_duration_seconds_count"));
        Assert.Equal("histogram", scrape.FamilyTypes["switchboard_dns_request_duration_seconds"]);
        Assert.Contains(_logs.Messages, m => m.Contains("www.example.net. A NOERROR", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_new_service_is_answered_mirrored_into_skydns_and_its_programming_latency_is_exported()
    {
        await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "shop" } });
        V1Service created = await api.Client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service { Metadata = new V1ObjectMeta { Name = "cart" }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] } },
            "shop");
        string ip = created.Spec.ClusterIP;

        await Eventually.WaitAsync(async () => (await Dig.RunAsync(Dns, "cart.shop.svc.cluster.local", "+short")).Trim() == ip, "the new service answered");
        IReadOnlyList<KeyValue> leaves = await Eventually.StoreAsync(api.Store, "/skydns/local/cluster/svc/shop/cart/", kv => kv.Count == 1, "cart mirrored");
        string metrics = (await GetAsync("/metrics")).Body;

        Assert.Contains($"\"host\":\"{ip}\"", System.Text.Encoding.UTF8.GetString(leaves[0].Value), StringComparison.Ordinal);
        Assert.True(PrometheusScrape.Parse(metrics).Value("switchboard_dns_programming_duration_seconds_count", ("kind", "service")) >= 1);
    }

    [Fact]
    public async Task The_skydns_zone_answers_records_put_in_the_store()
    {
        await api.Store.PutAsync("/skydns/local/skydns/registry/x", System.Text.Encoding.UTF8.GetBytes("""{"host":"10.1.2.3"}"""));

        await Eventually.WaitAsync(async () => (await Dig.RunAsync(Dns, "registry.skydns.local", "+short")).Trim() == "10.1.2.3", "the SkyDNS record answered");
    }

    [Fact]
    public async Task The_trace_asked_about_services_sends_only_their_queries_and_a_bad_service_is_a_400_status()
    {
        string[] about = ["cart.shop.svc.cluster.local.", "CART.default.svc.cluster.local.", "_http._tcp.cart.shop.svc.cluster.local.", "cart.", "kubernetes.default.svc.cluster.local."];
        string[] others = ["carts.shop.svc.cluster.local.", "shop.cart.svc.cluster.local.", "x.cart.default.svc.cluster.local.", "www.example.net.", "default.kubernetes.svc.cluster.local."];
        foreach (string name in others.Concat(about))
        {
            await Dig.RunAsync(Dns, name, name.StartsWith('_') ? "SRV" : "A");
        }

        (HttpStatusCode status, string body) = await GetAsync("/trace?service=shop/cart&service=default/kubernetes");
        (HttpStatusCode badStatus, string badBody) = await GetAsync("/trace?follow=true&service=Shop%20Cart");

        Assert.Equal(HttpStatusCode.OK, status);
        string[] names = [.. Dig.Lines(body).Select(line => (string)JsonNode.Parse(line)!["name"]!)];
        Assert.Equal(about, names);
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        JsonNode bad = JsonNode.Parse(badBody)!;
        Assert.Equal(("Status", "BadRequest", 400), ((string?)bad["kind"], (string?)bad["reason"], (int?)bad["code"]));
        Assert.Contains("\"Shop Cart\" is not NAMESPACE/NAME", (string?)bad["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Until_the_api_answers_cluster_names_are_servfail_and_ready_is_503()
    {
        var options = new DnsServiceOptions { Listen = [new IPEndPoint(IPAddress.Loopback, 0)], OperationsEndPoint = new IPEndPoint(IPAddress.Loopback, 0), Forward = false, UdpSockets = 1 };
        await using var components = await ComponentTestHost.StartAsync(services => services
            .AddKubeClient(_ => new Kubernetes(new KubernetesClientConfiguration { Host = "http://127.0.0.1:1" }))
            .AddClusterDns(options));
        var host = components.Get<DnsService>();

        string answer = await Dig.RunAsync(host.EndPoints[0], "nothing.default.svc.cluster.local");
        using HttpResponseMessage ready = await Http.GetAsync(new Uri($"http://{host.OperationsEndPoint}/ready"));

        Assert.Equal("SERVFAIL", Dig.Status(answer));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.False(host.IsReady);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using HttpResponseMessage response = await Http.GetAsync(new Uri($"http://{Service.OperationsEndPoint}{path}"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
