using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Http;
using Switchboard.ApiServer.Kinds;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Requests;
using Switchboard.Storage.Sqlite;

namespace Switchboard.ApiServer.Tests.Http;

/// <summary>A kind's verbs routed to their jobs (read, write, patch, subresources, watch) over the real SQLite store, and the errors routing itself answers.</summary>
public sealed class ResourceHandlerTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sb-resource-handler-").FullName;
    private SqliteKeyValueStore? _kv;
    private ResourceHandler<V1Deployment>? _deployments;

    private ResourceHandler<V1Deployment> Deployments => _deployments!;

    public async Task InitializeAsync()
    {
        _kv = SqliteKeyValueStore.Open(Path.Combine(_dir, "state.db"));
        var context = new RegistryContext(_kv, new FakeTimeProvider(DateTimeOffset.UtcNow), new Random(1));
        await new ResourceStore<V1Namespace>(ResourceKind<V1Namespace>.Create(new NamespaceStrategy(), namespaced: false), context)
            .CreateAsync(null, new V1Namespace { Metadata = new V1ObjectMeta { Name = "default" } }, false, CancellationToken.None);
        var scale = new ScaleAccess<V1Deployment>(d => d.Spec?.Replicas ?? 0, (d, n) => d.Spec.Replicas = n, d => d.Status?.Replicas ?? 0, _ => "app=web");
        var kind = ResourceKind<V1Deployment>.Create(new DeploymentStrategy(), namespaced: true, status: true, scale: scale);
        _deployments = new ResourceHandler<V1Deployment>(new ResourceStore<V1Deployment>(kind, context), context);
    }

    public async Task DisposeAsync()
    {
        await _kv!.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Create_get_patch_scale_and_delete_collection_go_to_their_jobs()
    {
        var created = await SendAsync("POST", null, null, "application/json", Deployment);
        await SendAsync("PATCH", "web", null, "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"tier\":\"front\"}}}");
        var scaled = await SendAsync("PUT", "web", "scale", "application/json", "{\"spec\":{\"replicas\":5}}");
        var read = await SendAsync("GET", "web", null);
        var deleted = await SendAsync("DELETE", null, null, query: "?labelSelector=tier%3Dfront");

        Assert.Equal((201, "Deployment", 1), (created.Code, Text(created.Body, "kind"), created.Body["metadata"]!["generation"]!.GetValue<int>()));
        Assert.Equal(("Scale", 5), (Text(scaled.Body, "kind"), scaled.Body["spec"]!["replicas"]!.GetValue<int>()));
        Assert.Equal(("front", 5, 2), (read.Body["metadata"]!["labels"]!["tier"]!.GetValue<string>(), read.Body["spec"]!["replicas"]!.GetValue<int>(), read.Body["metadata"]!["generation"]!.GetValue<int>()));
        Assert.Equal(("DeploymentList", "web"), (Text(deleted.Body, "kind"), deleted.Body["items"]![0]!["metadata"]!["name"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("GET", "web", "binding", 404, "the server could not find the requested resource")]
    [InlineData("GET", "web", "exec", 404, "the server could not find the requested resource")]
    [InlineData("PUT", null, null, 405, "PUT is not supported on resources of kind \"deployments\"")]
    [InlineData("POST", "web", null, 405, "POST is not supported on resources of kind \"deployments\"")]
    [InlineData("DELETE", "web", "status", 405, "DELETE is not supported on resources of kind \"deployments\"")]
    public async Task Verbs_and_subresources_a_kind_lacks_are_refused_before_the_store(string method, string? name, string? subresource, int code, string message)
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => SendAsync(method, name, subresource));

        Assert.Equal((code, message), (error.Code, error.Message));
    }

    [Fact]
    public async Task A_watch_from_an_unreadable_resource_version_is_400()
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => SendAsync("GET", null, null, query: "?watch=true&resourceVersion=abc"));

        Assert.Equal((400, "invalid resource version: abc"), (error.Code, error.Message));
    }

    private const string Deployment = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
         "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
                 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}
        """;

    private async Task<(int Code, JsonNode Body)> SendAsync(string method, string? name, string? subresource, string? contentType = null, string? body = null, string query = "")
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.QueryString = new QueryString(query);
        if (body is not null)
        {
            http.Request.ContentType = contentType;
            http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
            http.Request.ContentLength = http.Request.Body.Length;
        }

        http.Response.Body = new MemoryStream();
        await Deployments.HandleAsync(http, new RequestInfo("apps", "v1", "deployments", "default", name, subresource));
        return (http.Response.StatusCode, JsonNode.Parse(((MemoryStream)http.Response.Body).ToArray())!);
    }

    private static string? Text(JsonNode node, string name) => node[name]?.GetValue<string>();
}
