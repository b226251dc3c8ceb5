using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using k8s;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Cli;

/// <summary>
/// What kubectl 1.32 reads before it does anything: aggregated discovery (api-resources, short names, the "all"
/// category) and the OpenAPI v3 documents (explain, for every kind and field), with kube-openapi's caching.
/// </summary>
public sealed class ExplainAndDiscoveryTests(SqliteApiServer server) : IClassFixture<SqliteApiServer>, IDisposable
{
    private readonly HttpClientHandler _handler = new() { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator, AllowAutoRedirect = false };

    private Kubectl Kubectl => server.Kubectl;

    [Fact]
    public async Task Explain_prints_upstreams_description_of_a_field()
    {
        string text = await Kubectl.OutputAsync("explain", "service.spec.clusterIP");

        Assert.StartsWith("KIND:       Service\nVERSION:    v1\n\nFIELD: clusterIP <string>\n", text, StringComparison.Ordinal);
        Assert.Contains("    clusterIP is the IP address of the service and is usually assigned randomly.\n", text, StringComparison.Ordinal);
        Assert.Contains("Valid values are \"None\", empty string (\"\"), or a valid", text.Replace("\n    ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_recursive_walks_nested_types_with_their_names()
    {
        string text = await Kubectl.OutputAsync("explain", "deployment.spec", "--recursive", "--api-version=apps/v1");

        Assert.StartsWith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: spec <DeploymentSpec>\n", text, StringComparison.Ordinal);
        Assert.Contains("\n  selector\t<LabelSelector>\n    matchExpressions\t<[]LabelSelectorRequirement>\n", text, StringComparison.Ordinal);
        Assert.Contains("\n      containers\t<[]Container>\n", text, StringComparison.Ordinal);
        Assert.Contains("\n        ports\t<[]ContainerPort>\n          containerPort\t<integer>\n", text, StringComparison.Ordinal);
        Assert.Contains("\n      labels\t<map[string]string>\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_served_resource_has_a_schema_kubectl_can_explain()
    {
        string[] resources = (await Kubectl.OutputAsync("api-resources", "-o", "name")).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains("deployments.apps", resources);
        // metrics.k8s.io (as metrics-server, an aggregated API, serves it upstream) and the access reviews are served by
        // handlers of their own and publish no OpenAPI schema here yet.
        Assert.Contains("pods.metrics.k8s.io", resources);
        Assert.Contains("selfsubjectaccessreviews.authorization.k8s.io", resources);
        Assert.Contains("selfsubjectreviews.authentication.k8s.io", resources);
        string[] ownHandlers = [".metrics.k8s.io", ".authorization.k8s.io", ".authentication.k8s.io"];
        foreach (string resource in resources.Where(r => r != "bindings" && !ownHandlers.Any(g => r.EndsWith(g, StringComparison.Ordinal))))
        {
            var (code, stdout, stderr) = await Kubectl.RunAsync("explain", resource);
            Assert.True(code == 0, $"kubectl explain {resource}: {stderr}");
            Assert.Contains("\nFIELDS:\n", stdout, StringComparison.Ordinal);
            Assert.Contains("\n  metadata\t<ObjectMeta>\n", stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Api_resources_shows_upstreams_short_names_and_get_all_covers_the_all_category()
    {
        await Kubectl.OutputAsync("create", "namespace", "everything");
        await Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "everything");

        string wide = await Kubectl.OutputAsync("api-resources", "-o", "wide");
        string all = await Kubectl.OutputAsync("get", "all", "-n", "everything");

        Assert.Matches(@"(?m)^services\s+svc\s+v1\s+true\s+Service\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$", wide);
        Assert.Matches(@"(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment\s+\S+\s+all$", wide);
        Assert.Matches(@"(?m)^pods\s+po\s+v1\s+true\s+Pod\s", wide);
        Assert.Matches(@"(?m)^namespaces\s+ns\s+v1\s+false\s+Namespace\s", wide);
        Assert.Matches(@"(?m)^configmaps\s+cm\s+v1\s+true\s+ConfigMap\s", wide);
        Assert.Contains("service/backend", all, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/backend", all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aggregated_discovery_answers_in_the_type_client_go_asks_for_with_an_etag()
    {
        using var http = AuthenticatedClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apis");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json");
        using var response = await http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        using var again = new HttpRequestMessage(HttpMethod.Get, "/apis");
        again.Headers.TryAddWithoutValidation("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var cached = await http.SendAsync(again);

        var contentType = response.Content.Headers.ContentType!;
        Assert.Equal("application/json", contentType.MediaType);
        Assert.Equal(["as=APIGroupDiscoveryList", "g=apidiscovery.k8s.io", "v=v2"], contentType.Parameters.Select(p => $"{p.Name}={p.Value}").Order(StringComparer.Ordinal));
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("APIGroupDiscoveryList", doc.RootElement.GetProperty("kind").GetString());
        var apps = doc.RootElement.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("metadata").GetProperty("name").GetString() == "apps");
        var deployments = apps.GetProperty("versions")[0].GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == "deployments");
        Assert.Equal("Deployment", deployments.GetProperty("responseKind").GetProperty("kind").GetString());
        Assert.Equal(["deploy"], deployments.GetProperty("shortNames").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains(deployments.GetProperty("subresources").EnumerateArray(), s => s.GetProperty("subresource").GetString() == "scale");
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
    }

    [Fact]
    public async Task Openapi_v3_documents_are_addressed_by_hash_cached_by_etag_and_a_stale_hash_redirects()
    {
        using var http = AuthenticatedClient();
        using var root = JsonDocument.Parse(await http.GetStringAsync(new Uri("/openapi/v3", UriKind.Relative)));
        string url = root.RootElement.GetProperty("paths").GetProperty("apis/apps/v1").GetProperty("serverRelativeURL").GetString()!;
        using var response = await http.GetAsync(new Uri(url, UriKind.Relative));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, url);
        revalidate.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var cached = await http.SendAsync(revalidate);
        using var stale = await http.GetAsync(new Uri("/openapi/v3/apis/apps/v1?hash=0123", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("immutable", response.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        var patch = document.RootElement.GetProperty("paths").GetProperty("/apis/apps/v1/namespaces/{namespace}/deployments/{name}").GetProperty("patch");
        Assert.Equal("Deployment", patch.GetProperty("x-kubernetes-group-version-kind").GetProperty("kind").GetString());
        Assert.Contains(patch.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "fieldValidation");
        var containers = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("io.k8s.api.core.v1.PodSpec").GetProperty("properties").GetProperty("containers");
        Assert.Equal("map", containers.GetProperty("x-kubernetes-list-type").GetString());
        Assert.Equal("name", containers.GetProperty("x-kubernetes-patch-merge-key").GetString());
        Assert.Equal("merge", containers.GetProperty("x-kubernetes-patch-strategy").GetString());
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);
        Assert.Equal(HttpStatusCode.MovedPermanently, stale.StatusCode);
        Assert.Equal(url, stale.Headers.Location!.ToString());
    }

    public void Dispose() => _handler.Dispose();

    private HttpClient AuthenticatedClient()
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Host.KubeconfigPath);
        var http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = server.Host.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);
        return http;
    }
}
