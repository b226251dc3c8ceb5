using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>In <c>switchboard up</c> every component reports to one registry, so any /metrics shows them all.</summary>
public sealed class MetricsTests : SwitchboardUpTestBase
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task The_api_server_and_dns_metrics_endpoints_of_up_each_show_every_component()
    {
        await ChildProcess.RunAsync("dig", ["+short", "+tries=1", "+time=2", "@127.0.0.1", "-p", Up.DnsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "kubernetes.default.svc.cluster.local"]);
        await Up.Kubectl.OutputAsync("create", "deployment", "web", "--image", "nginx");

        PrometheusScrape api = PrometheusScrape.Parse(await Up.Kubectl.OutputAsync("get", "--raw", "/metrics"));
        PrometheusScrape dns = PrometheusScrape.Parse(await Http.GetStringAsync(new Uri($"http://127.0.0.1:{Up.DnsMetricsPort}/metrics")));

        foreach (PrometheusScrape scrape in (PrometheusScrape[])[api, dns])
        {
            Assert.True(scrape.Sum("apiserver_request_total", ("verb", "POST"), ("resource", "deployments"), ("group", "apps"), ("code", "201")) >= 1);
            Assert.Single(scrape.Find("workqueue_adds_total", ("name", "deployment")));
            Assert.True(scrape.Sum("switchboard_dns_requests_total", ("type", "A")) >= 1);
        }
    }
}
