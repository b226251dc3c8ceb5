using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Client;

/// <summary>The C# KubernetesClient against the server, unchanged: CRUD and watch; run once per store by the subclasses.</summary>
public abstract class ClientTests<TServer> : IClassFixture<TServer>
    where TServer : ApiServerFixture
{
    private readonly TServer _server;

    protected ClientTests(TServer server) => _server = server;

    [Fact]
    public async Task Create_read_update_patch_list_and_delete_round_trip()
    {
        using var client = _server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "crud" } });

        var created = await client.CoreV1.CreateNamespacedServiceAsync(Service("web", 80, ("app", "web")), "crud");
        var read = await client.CoreV1.ReadNamespacedServiceAsync("web", "crud");

        Assert.Equal(created.Metadata.Uid, read.Metadata.Uid);
        Assert.StartsWith("10.96.", read.Spec.ClusterIP, StringComparison.Ordinal);
        Assert.Equal("ClusterIP", read.Spec.Type);
        Assert.Equal("80", read.Spec.Ports[0].TargetPort.Value);

        read.Metadata.Labels["stage"] = "replaced";
        var replaced = await client.CoreV1.ReplaceNamespacedServiceAsync(read, "web", "crud");
        Assert.Equal("replaced", replaced.Metadata.Labels["stage"]);
        Assert.NotEqual(read.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);

        // The version read before the replace is stale now: 409 Conflict, and nothing changes.
        read.Metadata.Labels["stage"] = "stale";
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReplaceNamespacedServiceAsync(read, "web", "crud"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Contains("\"reason\":\"Conflict\"", conflict.Response.Content, StringComparison.Ordinal);

        var patch = new V1Patch("""{"metadata":{"labels":{"stage":"patched"}}}""", V1Patch.PatchType.MergePatch);
        var patched = await client.CoreV1.PatchNamespacedServiceAsync(patch, "web", "crud");
        Assert.Equal("patched", patched.Metadata.Labels["stage"]);
        Assert.Equal(replaced.Spec.ClusterIP, patched.Spec.ClusterIP);

        await client.CoreV1.CreateNamespacedServiceAsync(Service("db", 5432, ("app", "db")), "crud");
        var webOnly = await client.CoreV1.ListNamespacedServiceAsync("crud", labelSelector: "app=web");
        var notWeb = await client.CoreV1.ListNamespacedServiceAsync("crud", labelSelector: "app!=web");
        Assert.Equal(["web"], webOnly.Items.Select(s => s.Metadata.Name));
        Assert.Equal(["db"], notWeb.Items.Select(s => s.Metadata.Name));

        await client.CoreV1.DeleteNamespacedServiceAsync("web", "crud");
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNamespacedServiceAsync("web", "crud"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
    }

    [Fact]
    public async Task Watch_from_a_list_version_streams_added_modified_deleted_in_order()
    {
        using var client = _server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "watch" } });
        var list = await client.CoreV1.ListNamespacedServiceAsync("watch");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = client.CoreV1.WatchListNamespacedServiceAsync("watch", allowWatchBookmarks: true, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cancel.Token)
            .GetAsyncEnumerator(cancel.Token);

        await client.CoreV1.CreateNamespacedServiceAsync(Service("w", 80), "watch");
        await client.CoreV1.PatchNamespacedServiceAsync(new V1Patch("""{"metadata":{"labels":{"x":"1"}}}""", V1Patch.PatchType.MergePatch), "w", "watch");
        await client.CoreV1.DeleteNamespacedServiceAsync("w", "watch");

        var seen = new List<(WatchEventType, string?)>();
        while (seen.Count < 3 && await events.MoveNextAsync())
        {
            var (type, service) = events.Current;
            if (type != WatchEventType.Bookmark)
            {
                seen.Add((type, service.Metadata.Labels is { } labels && labels.TryGetValue("x", out string? x) ? x : null));
            }
        }

        await cancel.CancelAsync();
        Assert.Equal([(WatchEventType.Added, null), (WatchEventType.Modified, "1"), (WatchEventType.Deleted, "1")], seen);
    }

    internal static V1Service Service(string name, int port, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = port }], Selector = new Dictionary<string, string> { ["app"] = name } },
    };
}
