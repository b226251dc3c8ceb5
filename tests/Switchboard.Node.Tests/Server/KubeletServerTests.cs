using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Models;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Server;

/// <summary>The node's HTTPS port: client certificates of the cluster CA only, and kubelet's resource metrics read from the cgroups.</summary>
[Collection(NodeCollection.Name)]
public sealed class KubeletServerTests(NodeFixture fixture) : IDisposable
{
    private readonly NodeTls _tls = new(fixture.Server.DataDirectory);

    public void Dispose() => _tls.Dispose();

    [Fact]
    public async Task Without_a_client_certificate_of_the_cluster_CA_the_answer_is_401()
    {
        int port = await PortAsync();

        using (var anonymous = Client(null))
        {
            var response = await anonymous.GetAsync(new Uri($"https://127.0.0.1:{port}/metrics/resource"));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var strangerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=system:admin, O=system:masters", strangerKey, HashAlgorithmName.SHA256);
        using var stranger = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        using (var client = Client(stranger))
        {
            var response = await client.GetAsync(new Uri($"https://127.0.0.1:{port}/metrics/resource"));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Resource_metrics_give_cpu_and_memory_per_container_pod_and_node_to_a_CA_issued_client()
    {
        const string ns = "t-metrics";
        await fixture.CreateNamespaceAsync(ns);
        // Busy for a moment, then holding 20 MB in a shell variable: the shell stays (no exec), so the memory stays
        // charged to the container while the pod's and the container's figures are read.
        var spec = NodeFixture.ShellPod("busy", "sh", "-c", "i=0; while [ $$i -lt 200000 ]; do i=$$((i+1)); done; x=$$(head -c 20000000 /dev/zero | tr '\\0' a); sleep infinity");
        spec.Spec.Containers[0].Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1"), ["memory"] = new("256Mi") } };
        await fixture.RunPodAsync(ns, spec);
        int port = await PortAsync();
        using var client = Client(_tls.Client);

        PrometheusScrape? scrape = null;
        await Eventually.WaitAsync(async () =>
        {
            var response = await client.GetAsync(new Uri($"https://127.0.0.1:{port}/metrics/resource"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            scrape = PrometheusScrape.Parse(await response.Content.ReadAsStringAsync());
            return scrape.Samples.Any(s => s.Name == "container_memory_working_set_bytes" && s.Has(("pod", "busy")) && s.Value > 20_000_000);
        }, "the container's working set to pass 20 MB", TimeSpan.FromSeconds(60));

        (string, string)[] labels = [("container", "main"), ("namespace", ns), ("pod", "busy")];
        Assert.True(scrape!.Value("container_cpu_usage_seconds_total", labels) > 0.01, "the container's cpu time counts its loop");
        Assert.True(scrape.Value("container_start_time_seconds", labels) > DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());
        (string, string)[] podLabels = [("namespace", ns), ("pod", "busy")];
        Assert.True(scrape.Value("pod_cpu_usage_seconds_total", podLabels) >= scrape.Value("container_cpu_usage_seconds_total", labels));
        Assert.True(scrape.Value("pod_memory_working_set_bytes", podLabels) > 20_000_000);
        Assert.True(scrape.Value("node_cpu_usage_seconds_total") > scrape.Value("pod_cpu_usage_seconds_total", podLabels));
        Assert.True(scrape.Value("node_memory_working_set_bytes") > scrape.Value("pod_memory_working_set_bytes", podLabels));
        Assert.Equal(0, scrape.Value("resource_scrape_error"));
        Assert.Equal("counter", scrape.FamilyTypes["container_cpu_usage_seconds_total"]);
    }

    /// <summary>The port the node recorded in its status (kubelet's daemon endpoint); the fixture's node asks for a free one.</summary>
    private async Task<int> PortAsync()
    {
        var node = await fixture.Client.CoreV1.ReadNodeAsync(fixture.Options.NodeName);
        int port = node.Status.DaemonEndpoints.KubeletEndpoint.Port;
        Assert.NotEqual(0, port);
        return port;
    }

    /// <summary>A client that trusts the cluster CA for the server and presents <paramref name="certificate"/>, if any.</summary>
    private HttpClient Client(X509Certificate2? certificate)
    {
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, server, _, _) => _tls.Trusts(server) };
        if (certificate is not null)
        {
            handler.ClientCertificateOptions = ClientCertificateOption.Manual;
            handler.ClientCertificates.Add(certificate);
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }
}
