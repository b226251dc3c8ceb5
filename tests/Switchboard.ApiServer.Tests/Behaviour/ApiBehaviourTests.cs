using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Behaviour;

/// <summary>
/// Upstream behaviours beyond plain CRUD, through kubectl and KubernetesClient: dry-run, deletecollection, finalizers,
/// node ports, 410 after compaction, namespace termination, tables for every kind.
/// </summary>
public abstract class ApiBehaviourTests<TServer> : IClassFixture<TServer>
    where TServer : ApiServerFixture
{
    private readonly TServer _server;

    protected ApiBehaviourTests(TServer server) => _server = server;

    private Kubectl Kubectl => _server.Kubectl;

    [Fact]
    public async Task Server_dry_run_answers_as_if_created_but_stores_nothing()
    {
        await EnsureNamespaceAsync("dry");
        string file = Manifest("dry-svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: ghost\nspec:\n  ports:\n  - port: 80\n");

        string output = await Kubectl.OutputAsync("create", "-f", file, "-n", "dry", "--dry-run=server", "-o", "jsonpath={.spec.clusterIP}");
        var (code, _, stderr) = await Kubectl.RunAsync("get", "svc", "ghost", "-n", "dry");

        Assert.StartsWith("10.96.", output, StringComparison.Ordinal);
        Assert.NotEqual(0, code);
        Assert.Contains("services \"ghost\" not found", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deletecollection_deletes_only_what_the_selector_matches()
    {
        using var client = _server.NewClient();
        await EnsureNamespaceAsync("bulk");
        foreach (var (name, tier) in new[] { ("a", "cache"), ("b", "cache"), ("c", "db") })
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["tier"] = tier } } }, "bulk");
        }

        await client.CoreV1.DeleteCollectionNamespacedConfigMapAsync("bulk", labelSelector: "tier=cache");

        var left = await client.CoreV1.ListNamespacedConfigMapAsync("bulk");
        Assert.Equal(["c"], left.Items.Select(c => c.Metadata.Name));
    }

    [Fact]
    public async Task A_finalizer_holds_a_deleted_object_until_it_is_removed()
    {
        using var client = _server.NewClient();
        await EnsureNamespaceAsync("final");
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "held", Finalizers = ["example.com/hold"] } }, "final");

        await client.CoreV1.DeleteNamespacedConfigMapAsync("held", "final");
        var held = await client.CoreV1.ReadNamespacedConfigMapAsync("held", "final");
        Assert.NotNull(held.Metadata.DeletionTimestamp);

        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "held", "final");
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNamespacedConfigMapAsync("held", "final"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
    }

    [Fact]
    public async Task Node_ports_come_from_the_range_and_a_taken_one_is_a_422()
    {
        await EnsureNamespaceAsync("ports");
        string fixedPort = Manifest("np-fixed.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: fixed\nspec:\n  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 31001\n");
        string dynamic = Manifest("np-dynamic.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: dynamic\nspec:\n  type: NodePort\n  ports:\n  - port: 80\n");
        string clash = Manifest("np-clash.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: clash\nspec:\n  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 31001\n");

        await Kubectl.OutputAsync("create", "-f", fixedPort, "-n", "ports");
        await Kubectl.OutputAsync("create", "-f", dynamic, "-n", "ports");
        var (code, _, stderr) = await Kubectl.RunAsync("create", "-f", clash, "-n", "ports");

        Assert.Equal("31001", await Kubectl.OutputAsync("get", "svc", "fixed", "-n", "ports", "-o", "jsonpath={.spec.ports[0].nodePort}"));
        int port = int.Parse(await Kubectl.OutputAsync("get", "svc", "dynamic", "-n", "ports", "-o", "jsonpath={.spec.ports[0].nodePort}"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(port, 30000, 32767);
        Assert.NotEqual(0, code);
        Assert.Contains("spec.ports[0].nodePort: Invalid value: 31001: provided port is already allocated", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watch_from_a_compacted_revision_is_410_Expired()
    {
        using var client = _server.NewClient();
        await EnsureNamespaceAsync("compact");
        var first = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "one" } }, "compact");
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "two" } }, "compact");
        long now = await _server.Store.GetRevisionAsync();
        await _server.Store.CompactAsync(now);

        var error = await Assert.ThrowsAsync<HttpOperationException>(() =>
            client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync("compact", watch: true, resourceVersion: first.Metadata.ResourceVersion));

        Assert.Equal(HttpStatusCode.Gone, error.Response.StatusCode);
        using var status = JsonDocument.Parse(error.Response.Content);
        Assert.Equal("Expired", status.RootElement.GetProperty("reason").GetString());
        Assert.StartsWith($"too old resource version: {first.Metadata.ResourceVersion}", status.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_namespace_is_Terminating_and_refuses_new_content()
    {
        await Kubectl.OutputAsync("create", "namespace", "doomed");

        await Kubectl.OutputAsync("delete", "namespace", "doomed", "--wait=false");
        string phase = await Kubectl.OutputAsync("get", "namespace", "doomed", "-o", "jsonpath={.status.phase}");
        var (code, _, stderr) = await Kubectl.RunAsync("create", "-f", Manifest("doomed-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n"), "-n", "doomed");

        Assert.Equal("Terminating", phase);
        Assert.NotEqual(0, code);
        Assert.Contains("unable to create new content in namespace doomed because it is being terminated", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Finalizing_a_terminating_namespace_with_no_finalizers_left_deletes_it()
    {
        using var client = _server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "finalized" } });
        // Even a zero grace period (kubectl delete --force) goes through Terminating while spec.finalizers remain.
        await client.CoreV1.DeleteNamespaceAsync("finalized", new V1DeleteOptions { GracePeriodSeconds = 0 });
        var terminating = await client.CoreV1.ReadNamespaceAsync("finalized");
        Assert.Equal("Terminating", terminating.Status.Phase);
        Assert.Equal(["kubernetes"], terminating.Spec.Finalizers);

        // What the namespace controller does once the namespace is empty.
        terminating.Spec.Finalizers = [];
        await client.CoreV1.ReplaceNamespaceFinalizeAsync(terminating, "finalized");

        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNamespaceAsync("finalized"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
    }

    [Fact]
    public async Task Foreground_and_orphan_deletion_leave_the_object_marked_with_the_collectors_finalizer()
    {
        using var client = _server.NewClient();
        await EnsureNamespaceAsync("gc");
        foreach (string name in new[] { "fg", "orphaned" })
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name } }, "gc");
        }

        await client.CoreV1.DeleteNamespacedConfigMapAsync("fg", "gc", new V1DeleteOptions { PropagationPolicy = "Foreground" });
        await client.CoreV1.DeleteNamespacedConfigMapAsync("orphaned", "gc", new V1DeleteOptions { PropagationPolicy = "Orphan" });

        var foreground = await client.CoreV1.ReadNamespacedConfigMapAsync("fg", "gc");
        var orphan = await client.CoreV1.ReadNamespacedConfigMapAsync("orphaned", "gc");
        Assert.Equal(["foregroundDeletion"], foreground.Metadata.Finalizers);
        Assert.Equal(["orphan"], orphan.Metadata.Finalizers);
        Assert.NotNull(foreground.Metadata.DeletionTimestamp);
        Assert.NotNull(orphan.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task A_scheduled_pod_deletes_gracefully_as_Terminating_and_goes_at_once_when_forced_or_unscheduled()
    {
        await EnsureNamespaceAsync("graceful");
        await Kubectl.OutputAsync("create", "-f", Manifest("scheduled-pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: placed\nspec:\n  nodeName: node-1\n  containers:\n  - name: c\n    image: busybox\n"), "-n", "graceful");
        await Kubectl.OutputAsync("run", "unplaced", "--image=busybox", "-n", "graceful");

        await Kubectl.OutputAsync("delete", "pod", "placed", "unplaced", "-n", "graceful", "--wait=false");
        string listed = await Kubectl.OutputAsync("get", "pods", "-n", "graceful");
        string grace = await Kubectl.OutputAsync("get", "pod", "placed", "-n", "graceful", "-o", "jsonpath={.metadata.deletionGracePeriodSeconds}");
        await Kubectl.OutputAsync("delete", "pod", "placed", "-n", "graceful", "--grace-period=0", "--force");
        var (code, _, _) = await Kubectl.RunAsync("get", "pod", "placed", "-n", "graceful");

        // As upstream, a pod no node has taken is deleted at once; one on a node waits for its kubelet.
        Assert.Matches(@"placed\s+0/1\s+Terminating", listed);
        Assert.DoesNotContain("unplaced", listed, StringComparison.Ordinal);
        Assert.Equal("30", grace);
        Assert.NotEqual(0, code);
    }

    [Fact]
    public async Task Every_kind_prints_the_columns_kubectl_shows_on_a_real_cluster()
    {
        await EnsureNamespaceAsync("tables");
        await Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "tables");
        await Kubectl.OutputAsync("create", "-f", Manifest("kinds.yaml", KindsManifest), "-n", "tables");

        string[] Header(string output) => output.Split('\n')[0].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["NAME", "STATUS", "AGE"], Header(await Kubectl.OutputAsync("get", "namespaces")));
        Assert.Equal(["NAME", "STATUS", "ROLES", "AGE", "VERSION"], Header(await Kubectl.OutputAsync("get", "nodes")));
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], Header(await Kubectl.OutputAsync("get", "services", "-n", "tables")));
        Assert.Equal(["NAME", "ENDPOINTS", "AGE"], Header(await Kubectl.OutputAsync("get", "endpoints", "-n", "default")));
        Assert.Equal(["NAME", "READY", "STATUS", "RESTARTS", "AGE"], Header(await Kubectl.OutputAsync("get", "pods", "-n", "tables")));
        Assert.Equal(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"], Header(await Kubectl.OutputAsync("get", "pods", "-n", "tables", "-o", "wide")));
        Assert.Equal(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], Header(await Kubectl.OutputAsync("get", "events", "-n", "tables")));
        Assert.Equal(["NAME", "DATA", "AGE"], Header(await Kubectl.OutputAsync("get", "configmaps", "-n", "tables")));
        Assert.Equal(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], Header(await Kubectl.OutputAsync("get", "deployments", "-n", "tables")));
        Assert.Equal(["NAME", "DESIRED", "CURRENT", "READY", "AGE"], Header(await Kubectl.OutputAsync("get", "replicasets", "-n", "tables")));
        Assert.Equal(["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], Header(await Kubectl.OutputAsync("get", "endpointslices", "-n", "tables")));
        Assert.Matches(@"(?m)^web-abc\s+IPv4\s+8080\s+10\.244\.0\.5\s", await Kubectl.OutputAsync("get", "endpointslices", "-n", "tables"));
        Assert.Matches(@"(?m)^\S+\s+Normal\s+Scheduled\s+pod/solo\s+assigned to node-1", await Kubectl.OutputAsync("get", "events", "-n", "tables"));
    }

    private const string KindsManifest = """
        apiVersion: v1
        kind: Node
        metadata:
          name: node-1
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: solo
        spec:
          containers:
          - name: c
            image: busybox
        ---
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata:
          name: rs1
        spec:
          replicas: 2
          selector:
            matchLabels: {app: rs1}
          template:
            metadata:
              labels: {app: rs1}
            spec:
              containers:
              - name: c
                image: busybox
        ---
        apiVersion: v1
        kind: Event
        metadata:
          name: solo.1
        involvedObject:
          kind: Pod
          name: solo
        reason: Scheduled
        message: assigned to node-1
        type: Normal
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-abc
          labels:
            kubernetes.io/service-name: web
        addressType: IPv4
        ports:
        - name: http
          port: 8080
          protocol: TCP
        endpoints:
        - addresses: ["10.244.0.5"]
          conditions: {ready: true}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cm1
        data:
          a: b
        """;

    private async Task EnsureNamespaceAsync(string name)
    {
        var (code, _, _) = await Kubectl.RunAsync("get", "namespace", name);
        if (code != 0)
        {
            await Kubectl.OutputAsync("create", "namespace", name);
        }
    }

    private string Manifest(string name, string yaml)
    {
        string path = Path.Combine(_server.DataDirectory, name);
        File.WriteAllText(path, yaml);
        return path;
    }
}
