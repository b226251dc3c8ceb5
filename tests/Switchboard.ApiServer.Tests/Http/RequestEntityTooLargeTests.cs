using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Http;

/// <summary>
/// A body over the server's 3 MiB limit (kube-apiserver's MaxRequestBodyBytes) is refused as kube-apiserver refuses
/// it: 413 with a RequestEntityTooLarge Status, whichever client sends it, and the server goes on serving.
/// </summary>
public sealed class RequestEntityTooLargeTests(SqliteApiServer server) : IClassFixture<SqliteApiServer>
{
    private const string Message = "Request entity too large: limit is 3145728";

    [Fact]
    public async Task An_oversized_create_over_http2_gets_the_413_status()
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Host.KubeconfigPath);
        using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
        using var http = new HttpClient(handler) { BaseAddress = server.Host.Url, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);

        using var response = await http.PostAsync(new Uri("/api/v1/namespaces/default/configmaps", UriKind.Relative), new StringContent(OversizedConfigMap("raw"), Encoding.UTF8, "application/json"));
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "application/json"), (response.StatusCode, response.Content.Headers.ContentType?.MediaType));
        Assert.Equal(
            ("Status", "v1", "Failure", Message, "RequestEntityTooLarge", 413),
            (Text(status, "kind"), Text(status, "apiVersion"), Text(status, "status"), Text(status, "message"), Text(status, "reason"), status["code"]!.GetValue<int>()));
        using var after = await http.GetAsync(new Uri("/api/v1/namespaces/default", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Kubectl_reports_the_413_as_the_servers_error()
    {
        string manifest = Path.Combine(server.DataDirectory, "oversized.json");
        await File.WriteAllTextAsync(manifest, OversizedConfigMap("from-kubectl"));

        var result = await server.Kubectl.RunAsync("create", "-f", manifest);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"Error from server (RequestEntityTooLarge): error when creating \"{manifest}\": {Message}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("No resources found", (await server.Kubectl.RunAsync("get", "configmaps", "-n", "default", "--field-selector", "metadata.name=from-kubectl")).Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KubernetesClient_gets_the_413_status_over_http1()
    {
        using var client = server.NewClient();
        var big = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "from-client" }, Data = new Dictionary<string, string> { ["blob"] = new('x', 4 * 1024 * 1024) } };

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedConfigMapAsync(big, "default"));
        var status = JsonNode.Parse(error.Response.Content)!;

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, error.Response.StatusCode);
        Assert.Equal(("RequestEntityTooLarge", Message), (Text(status, "reason"), Text(status, "message")));
    }

    private static string OversizedConfigMap(string name) =>
        new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["data"] = new JsonObject { ["blob"] = new string('x', 4 * 1024 * 1024) },
        }.ToJsonString();

    private static string? Text(JsonNode node, string name) => node[name]?.GetValue<string>();
}
