using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Switchboard.ApiServer.Apply;
using Switchboard.ApiServer.OpenApi;

namespace Switchboard.ApiServer.Tests.Apply;

public sealed class ManagedFieldsUpdateTests
{
    private static readonly DateTime Now = new(2026, 12, 4, 7, 0, 0, DateTimeKind.Utc);
    private static readonly ModelShape PodShape = ModelShape.Of(typeof(V1Pod));

    private const string Created = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default","resourceVersion":"7","labels":{"app":"web"},
         "managedFields":[{"manager":"creator","operation":"Update","apiVersion":"v1","time":"2026-12-04T06:00:00Z","fieldsType":"FieldsV1",
           "fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}]},
         "spec":{"containers":[{"name":"web","image":"nginx"}]},"status":{"phase":"Pending"}}
        """;

    [Fact]
    public void A_status_write_owns_only_the_status_fields_it_changed_and_leaves_the_spec_to_its_owner()
    {
        var old = JsonNode.Parse(Created)!.AsObject();
        var updated = old.DeepClone().AsObject();
        updated["metadata"]!["resourceVersion"] = "8";
        updated["status"] = JsonNode.Parse("""{"phase":"Running","podIP":"10.244.0.2"}""");

        var entries = ManagedFields.Update(old, updated, PodShape, "kubelet", "v1", "status", Now)!;

        Assert.Equal(["creator", "kubelet"], entries.Select(e => e.Manager));
        Assert.Equal("""{"f:status":{"f:phase":{},"f:podIP":{}}}""", Json(entries[1].FieldsV1));
        Assert.Equal("status", entries[1].Subresource);
        Assert.Equal(Json(JsonNode.Parse(Created)!["metadata"]!["managedFields"]![0]!["fieldsV1"]), Json(entries[0].FieldsV1));
    }

    [Fact]
    public void A_label_added_and_one_removed_move_between_managers_while_unchanged_fields_stay()
    {
        var old = JsonNode.Parse(Created)!.AsObject();
        var updated = old.DeepClone().AsObject();
        updated["metadata"]!["labels"] = JsonNode.Parse("""{"tier":"front"}""");

        var entries = ManagedFields.Update(old, updated, PodShape, "labeller", "v1", null, Now)!;

        Assert.Equal(["creator", "labeller"], entries.Select(e => e.Manager));
        Assert.Equal("""{"f:metadata":{"f:labels":{}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}""", Json(entries[0].FieldsV1));
        Assert.Equal("""{"f:metadata":{"f:labels":{"f:tier":{}}}}""", Json(entries[1].FieldsV1));
    }

    [Fact]
    public void A_write_that_changes_nothing_tracked_keeps_the_entries_as_they_were()
    {
        var old = JsonNode.Parse(Created)!.AsObject();
        var updated = old.DeepClone().AsObject();
        updated["metadata"]!["resourceVersion"] = "9";

        var entries = ManagedFields.Update(old, updated, PodShape, "noop", "v1", null, Now)!;

        Assert.Equal("creator", Assert.Single(entries).Manager);
    }

    /// <summary>JSON as kube-apiserver writes it: quotes escaped only as \".</summary>
    private static string Json(object? value) => JsonSerializer.Serialize(value, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
