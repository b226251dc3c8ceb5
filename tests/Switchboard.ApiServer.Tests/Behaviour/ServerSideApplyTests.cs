using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Behaviour;

/// <summary>
/// Server-side apply as kube-apiserver does it, judged by the real kubectl 1.32 and KubernetesClient: managedFields per
/// manager with structured-merge-diff's FieldsV1, no-op applies, conflicts (409 and kubectl's message) and force,
/// pruning of what the applier stops applying, and the Update entries every other write records.
/// </summary>
public sealed class ServerSideApplyTests(SqliteApiServer server) : IClassFixture<SqliteApiServer>
{
    private const string Deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: nginx
                image: nginx:1.25
                ports:
                - containerPort: 80
        """;

    private Kubectl Kubectl => server.Kubectl;

    [Fact]
    public async Task Apply_twice_reports_serverside_applied_records_the_applier_and_changes_nothing_the_second_time()
    {
        await NamespaceAsync("ssa-twice");
        string file = Manifest("twice.yaml", Deployment);

        string first = await Kubectl.OutputAsync("apply", "--server-side", "-f", file, "-n", "ssa-twice");
        string version = await Kubectl.OutputAsync("get", "deploy", "web", "-n", "ssa-twice", "-o", "jsonpath={.metadata.resourceVersion}");
        string second = await Kubectl.OutputAsync("apply", "--server-side", "-f", file, "-n", "ssa-twice");
        string json = await Kubectl.OutputAsync("get", "deploy", "web", "-n", "ssa-twice", "-o", "json", "--show-managed-fields");

        Assert.Equal("deployment.apps/web serverside-applied", first.Trim());
        Assert.Equal("deployment.apps/web serverside-applied", second.Trim());
        using var doc = JsonDocument.Parse(json);
        var meta = doc.RootElement.GetProperty("metadata");
        Assert.Equal(version, meta.GetProperty("resourceVersion").GetString());
        var entry = Assert.Single(meta.GetProperty("managedFields").EnumerateArray());
        Assert.Equal("kubectl", entry.GetProperty("manager").GetString());
        Assert.Equal("Apply", entry.GetProperty("operation").GetString());
        Assert.Equal("apps/v1", entry.GetProperty("apiVersion").GetString());
        Assert.Equal("FieldsV1", entry.GetProperty("fieldsType").GetString());
        Assert.Equal(
            """{"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}""",
            Compact(entry.GetProperty("fieldsV1").GetRawText()));
    }

    [Fact]
    public async Task A_field_another_manager_set_is_a_409_conflict_until_forced_and_forcing_takes_it()
    {
        await NamespaceAsync("ssa-conflict");
        string file = Manifest("conflict.yaml", Deployment);
        await Kubectl.OutputAsync("apply", "--server-side", "-f", file, "-n", "ssa-conflict");
        await Kubectl.OutputAsync("patch", "deploy", "web", "-n", "ssa-conflict", "-p", """{"spec":{"replicas":3}}""");

        var refused = await Kubectl.RunAsync("apply", "--server-side", "-f", file, "-n", "ssa-conflict");
        string replicasAfterRefusal = await Kubectl.OutputAsync("get", "deploy", "web", "-n", "ssa-conflict", "-o", "jsonpath={.spec.replicas}");
        await Kubectl.OutputAsync("apply", "--server-side", "--force-conflicts", "-f", file, "-n", "ssa-conflict");
        string forced = await Kubectl.OutputAsync("get", "deploy", "web", "-n", "ssa-conflict", "-o", "jsonpath={.spec.replicas} {.metadata.managedFields[*].manager}", "--show-managed-fields");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("error: Apply failed with 1 conflict: conflict with \"kubectl-patch\" using apps/v1: .spec.replicas", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--force-conflicts", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal("3", replicasAfterRefusal);
        Assert.Equal("2 kubectl", forced);
    }

    [Fact]
    public async Task Conflicts_with_several_fields_list_each_path_under_its_manager()
    {
        await NamespaceAsync("ssa-many");
        await Kubectl.OutputAsync("apply", "--server-side", "-f", Manifest("many.yaml", Deployment), "-n", "ssa-many");
        string changed = Manifest("many-other.yaml", Deployment.Replace("nginx:1.25", "nginx:1.26", StringComparison.Ordinal).Replace("replicas: 2", "replicas: 4", StringComparison.Ordinal));

        var refused = await Kubectl.RunAsync("apply", "--server-side", "--field-manager=other", "-f", changed, "-n", "ssa-many");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(
            "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image",
            refused.Stderr,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_field_the_applier_stops_applying_is_removed_unless_another_manager_owns_it()
    {
        await NamespaceAsync("ssa-prune");
        string labelled = Deployment.Replace("  name: web\n", "  name: web\n  labels: {tier: front, team: a}\n", StringComparison.Ordinal);
        await Kubectl.OutputAsync("apply", "--server-side", "-f", Manifest("prune-1.yaml", labelled), "-n", "ssa-prune");
        await Kubectl.OutputAsync("label", "deploy", "web", "-n", "ssa-prune", "team=b", "--overwrite");

        await Kubectl.OutputAsync("apply", "--server-side", "-f", Manifest("prune-2.yaml", Deployment), "-n", "ssa-prune");
        string labels = await Kubectl.OutputAsync("get", "deploy", "web", "-n", "ssa-prune", "-o", "jsonpath={.metadata.labels}");

        Assert.Equal("""{"team":"b"}""", labels);
    }

    [Fact]
    public async Task The_csharp_client_applies_a_service_and_every_other_write_records_its_update_manager()
    {
        using var client = server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "ssa-client" } });
        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta { Name = "api", NamespaceProperty = "ssa-client" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "api" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
        };

        var applied = await client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(service, V1Patch.PatchType.ApplyPatch), "api", "ssa-client", fieldManager: "deployer");
        var labelled = await client.CoreV1.PatchNamespacedServiceAsync(
            new V1Patch("""{"metadata":{"labels":{"owner":"ops"}}}""", V1Patch.PatchType.MergePatch), "api", "ssa-client", fieldManager: "labeller");
        var missingManager = await Assert.ThrowsAsync<HttpOperationException>(() =>
            client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(service, V1Patch.PatchType.ApplyPatch), "api", "ssa-client"));

        var entry = Assert.Single(applied.Metadata.ManagedFields);
        Assert.Equal(("deployer", "Apply"), (entry.Manager, entry.Operation));
        Assert.Contains("""k:{\"port\":80,\"protocol\":\"TCP\"}""", Compact(JsonSerializer.Serialize(entry.FieldsV1)), StringComparison.Ordinal);
        Assert.Equal([("deployer", "Apply"), ("labeller", "Update")], labelled.Metadata.ManagedFields.Select(m => (m.Manager, m.Operation)));
        Assert.Equal("""{"f:metadata":{"f:labels":{".":{},"f:owner":{}}}}""", Compact(JsonSerializer.Serialize(labelled.Metadata.ManagedFields[1].FieldsV1)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missingManager.Response.StatusCode);
        Assert.Contains("fieldManager: Required value: is required for apply patch", missingManager.Response.Content, StringComparison.Ordinal);
    }

    /// <summary>JSON as kube-apiserver writes it: no indentation, quotes escaped only as \".</summary>
    private static string Compact(string json) =>
        JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private async Task NamespaceAsync(string name) => await Kubectl.OutputAsync("create", "namespace", name);

    private string Manifest(string name, string yaml)
    {
        string path = Path.Combine(server.DataDirectory, name);
        File.WriteAllText(path, yaml + "\n");
        return path;
    }
}
