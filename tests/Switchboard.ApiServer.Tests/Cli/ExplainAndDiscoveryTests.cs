using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using k8s;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Cli;

/// <summary>
/// What kubectl 1.32 reads before it does anything: aggregated discovery (api-resources, short names, the "all"
/// category) and the OpenAPI v3 documents (explain, for every kind and field, required ones marked), with kube-openapi's
/// caching, and the v2 document in gnostic's protobuf (explain --output plaintext-openapiv2).
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
        Assert.Contains("\n  selector\t<LabelSelector> -required-\n    matchExpressions\t<[]LabelSelectorRequirement>\n", text, StringComparison.Ordinal);
        Assert.Contains("\n      containers\t<[]Container> -required-\n", text, StringComparison.Ordinal);
        Assert.Contains("\n        ports\t<[]ContainerPort>\n          containerPort\t<integer> -required-\n", text, StringComparison.Ordinal);
        Assert.Contains("\n      labels\t<map[string]string>\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_resource_kubectl_api_resources_lists_can_be_explained_from_v3_and_v2()
    {
        var resources = (await Kubectl.OutputAsync("api-resources", "--no-headers"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(f => (Name: f[0], ApiVersion: f[^3], Kind: f[^1]))
            .ToList();

        Assert.Contains(resources, r => r is { Name: "pods", ApiVersion: "metrics.k8s.io/v1beta1", Kind: "PodMetrics" });
        Assert.Contains(resources, r => r is { Name: "selfsubjectaccessreviews", Kind: "SelfSubjectAccessReview" });
        Assert.Contains(resources, r => r is { Name: "bindings", Kind: "Binding" });
        foreach (var (name, apiVersion, kind) in resources)
        {
            string group = apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion.Split('/')[0] : "";
            string header = (group.Length > 0 ? $"GROUP:      {group}\n" : "") + $"KIND:       {kind}\nVERSION:    {apiVersion.Split('/')[^1]}\n";
            var (code, stdout, stderr) = await Kubectl.RunAsync("explain", name, "--api-version=" + apiVersion);
            Assert.True(code == 0, $"kubectl explain {name} --api-version={apiVersion}: {stderr}");
            Assert.StartsWith(header, stdout, StringComparison.Ordinal);
            Assert.Contains("\n  metadata\t<ObjectMeta>", stdout, StringComparison.Ordinal);

            // The v2 renderer finds the kind by the resource name alone (kubectl maps it ignoring --api-version), so a name
            // two groups share (metrics.k8s.io's nodes and pods) resolves to the core kind there, as against kube-apiserver.
            if (resources.Count(r => r.Name == name) == 1)
            {
                var (v2Code, v2Out, v2Err) = await Kubectl.RunAsync("explain", name, "--api-version=" + apiVersion, "--output=plaintext-openapiv2");
                Assert.True(v2Code == 0, $"kubectl explain {name} --api-version={apiVersion} -o plaintext-openapiv2: {v2Err}");
                Assert.StartsWith($"KIND:     {kind}\nVERSION:  {apiVersion}\n", v2Out, StringComparison.Ordinal);
                Assert.Contains("\n   metadata\t<Object>", v2Out, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Explain_marks_upstreams_required_fields_in_every_kind()
    {
        string containers = await Kubectl.OutputAsync("explain", "pods.spec.containers");
        string ports = await Kubectl.OutputAsync("explain", "services.spec.ports");
        string statefulSet = await Kubectl.OutputAsync("explain", "statefulsets.spec");
        string binding = await Kubectl.OutputAsync("explain", "rolebindings");
        string selector = await Kubectl.OutputAsync("explain", "deployments.spec.selector.matchExpressions");

        Assert.Contains("\n  name\t<string> -required-\n", containers, StringComparison.Ordinal);
        Assert.Contains("\n  image\t<string>\n", containers, StringComparison.Ordinal);
        Assert.Contains("\n  port\t<integer> -required-\n", ports, StringComparison.Ordinal);
        Assert.Contains("\n  targetPort\t<IntOrString>\n", ports, StringComparison.Ordinal);
        Assert.Contains("\n  serviceName\t<string> -required-\n", statefulSet, StringComparison.Ordinal);
        Assert.Contains("\n  replicas\t<integer>\n", statefulSet, StringComparison.Ordinal);
        Assert.Contains("\n  roleRef\t<RoleRef> -required-\n", binding, StringComparison.Ordinal);
        Assert.Contains("\n  key\t<string> -required-\n", selector, StringComparison.Ordinal);
        Assert.Contains("\n  operator\t<string> -required-\n", selector, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_describes_the_fields_of_kinds_served_by_handlers_of_their_own()
    {
        string review = await Kubectl.OutputAsync("explain", "selfsubjectaccessreviews.spec.resourceAttributes.verb");
        string rules = await Kubectl.OutputAsync("explain", "selfsubjectrulesreviews.status", "--recursive");
        string whoami = await Kubectl.OutputAsync("explain", "selfsubjectreviews.status.userInfo");
        string podMetrics = await Kubectl.OutputAsync("explain", "pods.containers", "--api-version=metrics.k8s.io/v1beta1");
        string binding = await Kubectl.OutputAsync("explain", "bindings.target");

        Assert.StartsWith("GROUP:      authorization.k8s.io\nKIND:       SelfSubjectAccessReview\nVERSION:    v1\n\nFIELD: verb <string>\n", review, StringComparison.Ordinal);
        Assert.Contains("verb is a kubernetes resource API verb", review, StringComparison.Ordinal);
        Assert.Contains("\nFIELD: status <SubjectRulesReviewStatus>\n", rules, StringComparison.Ordinal);
        Assert.Contains("\n  incomplete\t<boolean> -required-\n", rules, StringComparison.Ordinal);
        Assert.Contains("\n  resourceRules\t<[]ResourceRule> -required-\n    apiGroups\t<[]string>\n", rules, StringComparison.Ordinal);
        Assert.Contains("\n  groups\t<[]string>\n", whoami, StringComparison.Ordinal);
        Assert.StartsWith("GROUP:      metrics.k8s.io\nKIND:       PodMetrics\nVERSION:    v1beta1\n\nFIELD: containers <[]ContainerMetrics>\n", podMetrics, StringComparison.Ordinal);
        Assert.Contains("\n  usage\t<map[string]Quantity> -required-\n    The memory usage is the memory working set.\n", podMetrics, StringComparison.Ordinal);
        Assert.Contains("\nFIELD: target <ObjectReference>\n", binding, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_plaintext_openapiv2_reads_the_v2_protobuf_document()
    {
        string ports = await Kubectl.OutputAsync("explain", "pods.spec.containers.ports", "--output=plaintext-openapiv2");
        string recursive = await Kubectl.OutputAsync("explain", "deployments.spec.strategy", "--recursive", "--output=plaintext-openapiv2");

        Assert.StartsWith("KIND:     Pod\nVERSION:  v1\n\nRESOURCE: ports <[]Object>\n", ports, StringComparison.Ordinal);
        Assert.Contains("\n   containerPort\t<integer> -required-\n     Number of port to expose on the pod's IP address.", ports, StringComparison.Ordinal);
        Assert.Contains("\n   protocol\t<string>\n", ports, StringComparison.Ordinal);
        Assert.Contains("\n   rollingUpdate\t<Object>\n      maxSurge\t<string>\n      maxUnavailable\t<string>\n   type\t<string>\n", recursive, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subresources_publish_the_kind_they_answer_with()
    {
        using var http = AuthenticatedClient();
        using var root = JsonDocument.Parse(await http.GetStringAsync(new Uri("/openapi/v3", UriKind.Relative)));
        string Url(string path) => root.RootElement.GetProperty("paths").GetProperty(path).GetProperty("serverRelativeURL").GetString()!;
        using var core = JsonDocument.Parse(await http.GetStringAsync(new Uri(Url("api/v1"), UriKind.Relative)));
        using var apps = JsonDocument.Parse(await http.GetStringAsync(new Uri(Url("apis/apps/v1"), UriKind.Relative)));

        static string Gvk(JsonElement operation)
        {
            var gvk = operation.GetProperty("x-kubernetes-group-version-kind");
            return $"{gvk.GetProperty("group").GetString()}/{gvk.GetProperty("version").GetString()}/{gvk.GetProperty("kind").GetString()}";
        }

        var corePaths = core.RootElement.GetProperty("paths");
        var coreSchemas = core.RootElement.GetProperty("components").GetProperty("schemas");
        Assert.Equal("policy/v1/Eviction", Gvk(corePaths.GetProperty("/api/v1/namespaces/{namespace}/pods/{name}/eviction").GetProperty("post")));
        Assert.Equal("/v1/Binding", Gvk(corePaths.GetProperty("/api/v1/namespaces/{namespace}/pods/{name}/binding").GetProperty("post")));
        Assert.Equal("authentication.k8s.io/v1/TokenRequest", Gvk(corePaths.GetProperty("/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token").GetProperty("post")));
        Assert.Equal("/v1/Pod", Gvk(corePaths.GetProperty("/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers").GetProperty("patch")));
        Assert.Equal("Eviction", coreSchemas.GetProperty("io.k8s.api.policy.v1.Eviction").GetProperty("x-kubernetes-group-version-kind")[0].GetProperty("kind").GetString());
        Assert.Equal(["audiences"], coreSchemas.GetProperty("io.k8s.api.authentication.v1.TokenRequestSpec").GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        var scale = apps.RootElement.GetProperty("paths").GetProperty("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale");
        Assert.Equal("autoscaling/v1/Scale", Gvk(scale.GetProperty("put")));
        Assert.Equal("replaceAppsV1NamespacedDeploymentScale", scale.GetProperty("put").GetProperty("operationId").GetString());
        Assert.True(apps.RootElement.GetProperty("components").GetProperty("schemas").TryGetProperty("io.k8s.api.autoscaling.v1.Scale", out _));
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
