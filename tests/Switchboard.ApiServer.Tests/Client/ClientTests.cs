using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Client;

/// <summary>The C# KubernetesClient against the server, unchanged: CRUD, watch and pods/binding; run once per store by the subclasses.</summary>
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

    [Fact]
    public async Task Binding_a_pending_pod_sets_its_node_PodScheduled_and_the_bindings_annotations_once()
    {
        using var client = _server.NewClient();
        var pod = await CreatePendingPodAsync(client, "bind", "p");
        var binding = Binding("p", "node-a", uid: pod.Metadata.Uid);
        binding.Metadata.Annotations = new Dictionary<string, string> { ["example.com/scheduled-by"] = "test" };

        var answer = await client.CoreV1.CreateNamespacedPodBindingWithHttpMessagesAsync(binding, "p", "bind");
        var bound = await client.CoreV1.ReadNamespacedPodAsync("p", "bind");
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "node-b"), "p", "bind"));

        // As kube-apiserver: 201 with a Success Status, which the client reads into its V1Binding without complaint.
        Assert.Equal(HttpStatusCode.Created, answer.Response.StatusCode);
        Assert.Equal("Status", answer.Body.Kind);
        Assert.Equal("node-a", bound.Spec.NodeName);
        Assert.Contains(bound.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "True");
        Assert.Equal("test", bound.Metadata.Annotations["example.com/scheduled-by"]);
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode);
        Assert.Contains("Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"node-a\"", Message(again), StringComparison.Ordinal);
        Assert.Equal("node-a", (await client.CoreV1.ReadNamespacedPodAsync("p", "bind")).Spec.NodeName);
    }

    [Fact]
    public async Task A_binding_to_no_node_to_another_pod_under_another_uid_or_of_a_deleted_pod_is_refused_and_binds_nothing()
    {
        using var client = _server.NewClient();
        await CreatePendingPodAsync(client, "refuse", "p");
        var held = Pod("doomed");
        held.Metadata.Finalizers = ["example.com/hold"];
        await client.CoreV1.CreateNamespacedPodAsync(held, "refuse");
        await client.CoreV1.DeleteNamespacedPodAsync("doomed", "refuse");

        var wrongKind = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "node-a", kind: "Pod"), "p", "refuse"));
        var noNode = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", ""), "p", "refuse"));
        var otherName = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("q", "node-a"), "p", "refuse"));
        var unknownPod = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("ghost", "node-a"), "ghost", "refuse"));
        var staleUid = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "node-a", uid: "not-the-pods-uid"), "p", "refuse"));
        var deleting = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("doomed", "node-a"), "doomed", "refuse"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongKind.Response.StatusCode);
        Assert.Contains("Binding \"p\" is invalid: target.kind: Unsupported value: \"Pod\": supported values: \"Node\", \"<empty>\"", Message(wrongKind), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noNode.Response.StatusCode);
        Assert.Contains("target.name: Required value", Message(noNode), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, otherName.Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownPod.Response.StatusCode);
        Assert.Contains("pods \"ghost\" not found", Message(unknownPod), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, staleUid.Response.StatusCode);
        Assert.Contains("Precondition failed: UID in precondition: not-the-pods-uid", Message(staleUid), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, deleting.Response.StatusCode);
        Assert.Contains("pod doomed is being deleted, cannot be assigned to a host", Message(deleting), StringComparison.Ordinal);
        Assert.Null((await client.CoreV1.ReadNamespacedPodAsync("p", "refuse")).Spec.NodeName);
        Assert.Null((await client.CoreV1.ReadNamespacedPodAsync("doomed", "refuse")).Spec.NodeName);
    }

    [Fact]
    public async Task A_pod_held_by_a_scheduling_gate_cannot_be_bound_until_the_gate_is_removed()
    {
        using var client = _server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "gated" } });
        var gated = Pod("p");
        gated.Spec.SchedulingGates = [new V1PodSchedulingGate { Name = "example.com/hold" }];
        await client.CoreV1.CreateNamespacedPodAsync(gated, "gated");

        var held = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "node-a"), "p", "gated"));
        await client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"spec":{"schedulingGates":null}}""", V1Patch.PatchType.MergePatch), "p", "gated");
        await client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "node-a"), "p", "gated");

        Assert.Equal(HttpStatusCode.Conflict, held.Response.StatusCode);
        Assert.Contains("pod p has non-empty .spec.schedulingGates", Message(held), StringComparison.Ordinal);
        Assert.Equal("node-a", (await client.CoreV1.ReadNamespacedPodAsync("p", "gated")).Spec.NodeName);
    }

    [Fact]
    public async Task Discovery_lists_pods_binding_for_create_only()
    {
        using var client = _server.NewClient();

        var resources = await client.CoreV1.GetAPIResourcesAsync();

        var binding = Assert.Single(resources.Resources, r => r.Name == "pods/binding");
        Assert.Equal("Binding", binding.Kind);
        Assert.True(binding.Namespaced);
        Assert.Equal(["create"], binding.Verbs);
    }

    internal static V1Service Service(string name, int port, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = port }], Selector = new Dictionary<string, string> { ["app"] = name } },
    };

    /// <summary>The message of the Status a refused request answered with.</summary>
    private static string Message(HttpOperationException error)
    {
        using var status = JsonDocument.Parse(error.Response.Content);
        return status.RootElement.GetProperty("message").GetString() ?? "";
    }

    private static async Task<V1Pod> CreatePendingPodAsync(Kubernetes client, string ns, string name)
    {
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        return await client.CoreV1.CreateNamespacedPodAsync(Pod(name), ns);
    }

    private static V1Pod Pod(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "busybox" }] },
    };

    private static V1Binding Binding(string pod, string node, string kind = "Node", string? uid = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = pod, Uid = uid },
        Target = new V1ObjectReference { Kind = kind, Name = node },
    };
}
