using System.Net;
using System.Text.Json;

namespace Switchboard.ApiServer.Tests.Kubectl;

public sealed class KubectlTests : IClassFixture<ApiServerFixture>
{
    private readonly ApiServerFixture _server;

    public KubectlTests(ApiServerFixture server) => _server = server;

    [Fact]
    public async Task Backend_example_creates_and_reads_back_as_on_a_real_cluster()
    {
        await EnsureBackendAsync();

        var (_, table, _) = await Ok("get", "svc", "backend", "-n", "critical-app");
        string[] header = table.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], header);
        Assert.Matches(@"backend\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80/TCP", table);

        var (_, wide, _) = await Ok("get", "deploy", "-n", "critical-app", "-o", "wide");
        Assert.Matches(@"backend\s+0/3\s+0\s+0\s+\S+\s+nginx\s+nginx\s+app=critical-app,role=backend", wide);

        var (_, ip, _) = await Ok("get", "svc", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        Assert.True(IPAddress.TryParse(ip, out var address) && address.ToString().StartsWith("10.96.", StringComparison.Ordinal), ip);

        var (_, yaml, _) = await Ok("get", "svc", "backend", "-n", "critical-app", "-o", "yaml");
        Assert.Contains("sessionAffinity: None", yaml, StringComparison.Ordinal);
        Assert.Contains("targetPort: 80", yaml, StringComparison.Ordinal);
        Assert.Contains("uid: ", yaml, StringComparison.Ordinal);

        var (_, json, _) = await Ok("get", "deploy", "backend", "-n", "critical-app", "-o", "json");
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(1, doc.RootElement.GetProperty("metadata").GetProperty("generation").GetInt32());
        Assert.Equal("RollingUpdate", doc.RootElement.GetProperty("spec").GetProperty("strategy").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Describe_service_prints_the_fields_users_look_for()
    {
        await EnsureBackendAsync();

        var (_, text, _) = await Ok("describe", "service", "backend", "-n", "critical-app");

        Assert.Matches(@"Name:\s+backend", text);
        Assert.Matches(@"Namespace:\s+critical-app", text);
        Assert.Matches(@"Selector:\s+app=critical-app,role=backend", text);
        Assert.Matches(@"Type:\s+ClusterIP", text);
        Assert.Matches(@"IP:\s+10\.96\.", text);
        Assert.Matches(@"Port:\s+<unset>\s+80/TCP", text);
        Assert.Matches(@"TargetPort:\s+80/TCP", text);
        Assert.Matches(@"Session Affinity:\s+None", text);
        Assert.Matches(@"Events:\s+<none>", text);
    }

    [Fact]
    public async Task Errors_read_as_kubectl_prints_them_for_404_409_and_422()
    {
        await EnsureBackendAsync();

        var (code, _, stderr) = await _server.KubectlAsync("get", "svc", "nosuch", "-n", "critical-app");
        Assert.NotEqual(0, code);
        Assert.Contains("Error from server (NotFound): services \"nosuch\" not found", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await _server.KubectlAsync("create", "namespace", "critical-app");
        Assert.NotEqual(0, code);
        Assert.Contains("Error from server (AlreadyExists): namespaces \"critical-app\" already exists", stderr, StringComparison.Ordinal);

        string bad = Path.Combine(_server.DataDirectory, "bad-service.yaml");
        await File.WriteAllTextAsync(bad, "apiVersion: v1\nkind: Service\nmetadata:\n  name: Bad_Name\nspec:\n  ports:\n  - port: 70000\n");
        (code, _, stderr) = await _server.KubectlAsync("create", "-f", bad, "-n", "critical-app");
        Assert.NotEqual(0, code);
        Assert.Contains("The Service \"Bad_Name\" is invalid", stderr, StringComparison.Ordinal);
        Assert.Contains("metadata.name: Invalid value: \"Bad_Name\"", stderr, StringComparison.Ordinal);
        Assert.Contains("spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_without_the_admin_token_get_401()
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler) { BaseAddress = _server.Host.Url };

        using var anonymous = await client.GetAsync(new Uri("/api/v1/namespaces", UriKind.Relative));
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "wrong");
        using var wrong = await client.GetAsync(new Uri("/api/v1/namespaces", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var status = JsonDocument.Parse(await wrong.Content.ReadAsStringAsync());
        Assert.Equal("Unauthorized", status.RootElement.GetProperty("reason").GetString());
    }

    private async Task EnsureBackendAsync()
    {
        var (code, _, _) = await _server.KubectlAsync("get", "svc", "backend", "-n", "critical-app");
        if (code == 0)
        {
            return;
        }

        await Ok("create", "namespace", "critical-app");
        var (_, created, _) = await Ok("create", "-f", ApiServerFixture.ExampleFile("backend.yaml"), "-n", "critical-app");
        Assert.Contains("service/backend created", created, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/backend created", created, StringComparison.Ordinal);
    }

    private async Task<(int, string, string)> Ok(params string[] args)
    {
        var result = await _server.KubectlAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed: {result.Stderr}");
        return result;
    }
}
