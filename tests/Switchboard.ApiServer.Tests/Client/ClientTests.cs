using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Client;

/// <summary>The C# KubernetesClient against the server, unchanged: CRUD, watch, pods/binding and bindings; run once per store by the subclasses.</summary>
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
        AssertBoundToNodeA(answer, bound, again);
        Assert.Equal("node-a", (await client.CoreV1.ReadNamespacedPodAsync("p", "bind")).Spec.NodeName);
    }

    [Fact]
    public async Task The_bindings_collection_binds_the_pod_its_binding_names_as_pods_binding_does()
    {
        using var client = _server.NewClient();
        await CreatePendingPodAsync(client, "bindings", "p");

        // Not a subresource: as kube-apiserver's create handler, the server wipes the uid, so it is no precondition.
        var binding = Binding("p", "node-a", uid: "not-the-pods-uid");
        binding.Metadata.Annotations = new Dictionary<string, string> { ["example.com/scheduled-by"] = "test" };
        var answer = await client.CoreV1.CreateNamespacedBindingWithHttpMessagesAsync(binding, "bindings");
        var bound = await client.CoreV1.ReadNamespacedPodAsync("p", "bindings");
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedBindingAsync(Binding("p", "node-b"), "bindings"));
        var unnamed = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedBindingAsync(Binding("", "node-a"), "bindings"));
        var unknownPod = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedBindingAsync(Binding("ghost", "node-a"), "bindings"));

        AssertBoundToNodeA(answer, bound, again);
        AssertRefused(unnamed, HttpStatusCode.BadRequest, "Name parameter required.");
        AssertRefused(unknownPod, HttpStatusCode.NotFound, "pods \"ghost\" not found");
        Assert.Equal("node-a", (await client.CoreV1.ReadNamespacedPodAsync("p", "bindings")).Spec.NodeName);
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

        AssertRefused(wrongKind, HttpStatusCode.UnprocessableEntity, "Binding \"p\" is invalid: target.kind: Unsupported value: \"Pod\": supported values: \"Node\", \"<empty>\"");
        AssertRefused(noNode, HttpStatusCode.UnprocessableEntity, "target.name: Required value");
        Assert.Equal(HttpStatusCode.BadRequest, otherName.Response.StatusCode);
        AssertRefused(unknownPod, HttpStatusCode.NotFound, "pods \"ghost\" not found");
        AssertRefused(staleUid, HttpStatusCode.Conflict, "Precondition failed: UID in precondition: not-the-pods-uid");
        AssertRefused(deleting, HttpStatusCode.Conflict, "pod doomed is being deleted, cannot be assigned to a host");
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
        var created = await client.CoreV1.CreateNamespacedPodAsync(gated, "gated");

        var held = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "node-a"), "p", "gated"));
        var ungated = await client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"spec":{"schedulingGates":null}}""", V1Patch.PatchType.MergePatch), "p", "gated");
        await client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "node-a"), "p", "gated");
        var bound = await client.CoreV1.ReadNamespacedPodAsync("p", "gated");

        // As kube-apiserver: a pod created gated says so at once; the condition stays until the pod is scheduled.
        var gatedCondition = Assert.Single(created.Status.Conditions);
        Assert.Equal(("PodScheduled", "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates"), (gatedCondition.Type, gatedCondition.Status, gatedCondition.Reason, gatedCondition.Message));
        Assert.Equal(created.Metadata.CreationTimestamp, gatedCondition.LastTransitionTime);
        Assert.Equal("SchedulingGated", Assert.Single(ungated.Status.Conditions).Reason);
        AssertRefused(held, HttpStatusCode.Conflict, "pod p has non-empty .spec.schedulingGates");
        Assert.Equal("node-a", bound.Spec.NodeName);
        var scheduled = Assert.Single(bound.Status.Conditions);
        Assert.Equal(("PodScheduled", "True", null), (scheduled.Type, scheduled.Status, scheduled.Reason));
    }

    [Fact]
    public async Task A_pods_node_is_set_by_its_binding_alone_and_its_status_stays_writable()
    {
        using var client = _server.NewClient();
        await CreatePendingPodAsync(client, "immutable", "p");

        var moved = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"spec":{"nodeName":"node-a"}}""", V1Patch.PatchType.MergePatch), "p", "immutable"));
        await client.CoreV1.CreateNamespacedPodBindingAsync(Binding("p", "node-a"), "p", "immutable");
        var bound = await client.CoreV1.ReadNamespacedPodAsync("p", "immutable");
        bound.Status.Phase = "Running";
        bound.Spec.NodeName = "node-b"; // /status takes the status alone
        var running = await client.CoreV1.ReplaceNamespacedPodStatusAsync(bound, "p", "immutable");
        running.Spec.NodeName = "node-b";
        var rebound = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReplaceNamespacedPodAsync(running, "p", "immutable"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, moved.Response.StatusCode);
        Assert.StartsWith(
            "Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n  core.PodSpec{\n",
            Message(moved),
            StringComparison.Ordinal);
        Assert.Contains("- \tnodeName: \"\",\n+ \tnodeName: \"node-a\",\n", Message(moved), StringComparison.Ordinal);
        AssertRefused(rebound, HttpStatusCode.UnprocessableEntity, "+ \tnodeName: \"node-b\",");
        var now = await client.CoreV1.ReadNamespacedPodAsync("p", "immutable");
        Assert.Equal("node-a", now.Spec.NodeName);
        Assert.Equal("Running", now.Status.Phase);
    }

    [Fact]
    public async Task A_pods_active_deadline_may_be_set_or_lowered_its_scheduling_gates_removed_and_while_gated_its_node_selector_extended()
    {
        using var client = _server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "deadline" } });
        var gated = Pod("p");
        gated.Spec.SchedulingGates = [new V1PodSchedulingGate { Name = "example.com/a" }, new V1PodSchedulingGate { Name = "example.com/b" }];
        gated.Spec.NodeSelector = new Dictionary<string, string> { ["disk"] = "ssd" };
        await client.CoreV1.CreateNamespacedPodAsync(gated, "deadline");
        Task<V1Pod> PatchAsync(string spec) => client.CoreV1.PatchNamespacedPodAsync(new V1Patch($$"""{"spec":{{spec}}}""", V1Patch.PatchType.MergePatch), "p", "deadline");

        await PatchAsync("""{"activeDeadlineSeconds":60}""");
        await PatchAsync("""{"activeDeadlineSeconds":30}""");
        var raised = await Assert.ThrowsAsync<HttpOperationException>(() => PatchAsync("""{"activeDeadlineSeconds":90}"""));
        var unset = await Assert.ThrowsAsync<HttpOperationException>(() => PatchAsync("""{"activeDeadlineSeconds":null}"""));
        var added = await Assert.ThrowsAsync<HttpOperationException>(() => PatchAsync("""{"schedulingGates":[{"name":"example.com/a"},{"name":"example.com/c"}]}"""));
        await PatchAsync("""{"nodeSelector":{"zone":"a"}}""");
        var narrowed = await Assert.ThrowsAsync<HttpOperationException>(() => PatchAsync("""{"nodeSelector":{"disk":"hdd"}}"""));
        var left = await PatchAsync("""{"schedulingGates":[{"name":"example.com/b"}]}""");

        Assert.Equal("Pod \"p\" is invalid: spec.activeDeadlineSeconds: Invalid value: 90: must be less than or equal to previous value", Message(raised));
        Assert.Equal("Pod \"p\" is invalid: spec.activeDeadlineSeconds: Invalid value: \"null\": must not update from a positive integer to nil value", Message(unset));
        Assert.Equal("Pod \"p\" is invalid: spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/c'", Message(added));
        Assert.Equal("Pod \"p\" is invalid: spec.nodeSelector: Invalid value: map[string]string{\"disk\":\"hdd\", \"zone\":\"a\"}: only additions to spec.nodeSelector are allowed (no mutations or deletions)", Message(narrowed));
        Assert.Equal(30, left.Spec.ActiveDeadlineSeconds);
        Assert.Equal(new Dictionary<string, string> { ["disk"] = "ssd", ["zone"] = "a" }, left.Spec.NodeSelector);
        Assert.Equal(["example.com/b"], left.Spec.SchedulingGates.Select(g => g.Name));
    }

    [Fact]
    public async Task Discovery_lists_pods_binding_and_bindings_for_create_only()
    {
        using var client = _server.NewClient();

        var resources = await client.CoreV1.GetAPIResourcesAsync();

        var binding = Assert.Single(resources.Resources, r => r.Name == "pods/binding");
        Assert.Equal("Binding", binding.Kind);
        Assert.True(binding.Namespaced);
        Assert.Equal(["create"], binding.Verbs);
        var bindings = Assert.Single(resources.Resources, r => r.Name == "bindings");
        Assert.Equal("Binding", bindings.Kind);
        Assert.Equal("binding", bindings.SingularName);
        Assert.True(bindings.Namespaced);
        Assert.Equal(["create"], bindings.Verbs);
    }

    internal static V1Service Service(string name, int port, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = port }], Selector = new Dictionary<string, string> { ["app"] = name } },
    };

    /// <summary>The message of the Status a refused request answered with.</summary>
    /// <summary>What a binding of pod p to node-a leaves: 201 with a Status; the pod on the node, scheduled and annotated; a second binding refused.</summary>
    private static void AssertBoundToNodeA(HttpOperationResponse<V1Binding> answer, V1Pod bound, HttpOperationException again)
    {
        Assert.Equal(HttpStatusCode.Created, answer.Response.StatusCode);
        Assert.Equal("Status", answer.Body.Kind);
        Assert.Equal("node-a", bound.Spec.NodeName);
        Assert.Contains(bound.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "True");
        Assert.Equal("test", bound.Metadata.Annotations["example.com/scheduled-by"]);
        AssertRefused(again, HttpStatusCode.Conflict, "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"node-a\"");
    }

    private static void AssertRefused(HttpOperationException error, HttpStatusCode code, string message)
    {
        Assert.Equal(code, error.Response.StatusCode);
        Assert.Contains(message, Message(error), StringComparison.Ordinal);
    }

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
