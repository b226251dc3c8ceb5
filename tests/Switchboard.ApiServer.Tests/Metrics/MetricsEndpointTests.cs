using System.Net;
using System.Net.Http.Headers;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Metrics;

/// <summary>/metrics as kube-apiserver serves it: authenticated, Prometheus text, its request, watch and storage series.</summary>
public sealed class MetricsEndpointTests(SqliteApiServer server) : IClassFixture<SqliteApiServer>, IDisposable
{
    private readonly HttpClientHandler _handler = new() { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };

    [Fact]
    public async Task Metrics_needs_the_token_and_counts_requests_by_verb_resource_and_code_with_open_watches_and_stored_objects()
    {
        const int created = 5;
        using Kubernetes client = server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "metrics" } });
        for (int i = 0; i < created; i++)
        {
            await client.CoreV1.CreateNamespacedServiceAsync(
                new V1Service { Metadata = new V1ObjectMeta { Name = $"svc-{i}" }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] } }, "metrics");
        }

        await client.CoreV1.ListNamespacedServiceAsync("metrics");
        await client.CoreV1.ReadNamespacedServiceAsync("svc-0", "metrics");
        await client.CoreV1.DeleteNamespacedServiceAsync("svc-0", "metrics");
        using var anonymous = new HttpClient(_handler, disposeHandler: false) { BaseAddress = server.Host.Url };
        using HttpResponseMessage unauthorized = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        PrometheusScrape during;
        using (await WatchStream.OpenAsync(server.Host, "/api/v1/namespaces/metrics/services?watch=true"))
        {
            during = await ScrapeAsync();
        }

        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        (string, string)[] services = [("group", ""), ("version", "v1"), ("resource", "services"), ("component", "apiserver")];
        Assert.True(during.Sum("apiserver_request_total", [.. services, ("verb", "POST"), ("scope", "resource"), ("code", "201")]) >= created);
        Assert.True(during.Sum("apiserver_request_total", [.. services, ("verb", "LIST"), ("scope", "namespace"), ("code", "200")]) >= 1);
        Assert.True(during.Sum("apiserver_request_total", [.. services, ("verb", "GET"), ("scope", "resource"), ("code", "200")]) >= 1);
        Assert.True(during.Sum("apiserver_request_total", [.. services, ("verb", "DELETE"), ("code", "200")]) >= 1);
        Assert.True(during.Sum("apiserver_request_total", ("verb", "GET"), ("resource", ""), ("subresource", ""), ("code", "401")) >= 1);
        Assert.Equal("histogram", during.FamilyTypes["apiserver_request_duration_seconds"]);
        Assert.True(during.Sum("apiserver_request_duration_seconds_count", [.. services, ("verb", "POST")]) >= created);
        Assert.Empty(during.Find("apiserver_request_duration_seconds_count", ("code", "201")));
        Assert.Equal(1, during.Value("apiserver_longrunning_requests", [.. services, ("verb", "WATCH"), ("scope", "namespace")]));
        Assert.True(during.Value("apiserver_storage_objects", ("resource", "services")) >= created); // less the deleted, plus default/kubernetes
        Assert.True(during.Value("apiserver_storage_objects", ("resource", "namespaces")) >= 1);
        Assert.Equal(0, during.Value("apiserver_storage_objects", ("resource", "deployments.apps")));

        // The watch is over once its client leaves: it is counted as a request then, and is no longer long-running.
        await Eventually.WaitAsync(
            async () => (await ScrapeAsync()).Value("apiserver_longrunning_requests", [.. services, ("verb", "WATCH")]) == 0,
            "the closed watch to leave apiserver_longrunning_requests");
        PrometheusScrape after = await ScrapeAsync();
        Assert.True(after.Sum("apiserver_request_total", [.. services, ("verb", "WATCH")]) >= 1);
        Assert.True(after.Sum("apiserver_request_total", ("verb", "GET"), ("resource", ""), ("subresource", "/metrics"), ("code", "200")) >= 2);
    }

    public void Dispose() => _handler.Dispose();

    private async Task<PrometheusScrape> ScrapeAsync()
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Host.KubeconfigPath);
        using var http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = server.Host.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);
        using HttpResponseMessage response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return PrometheusScrape.Parse(await response.Content.ReadAsStringAsync());
    }
}
