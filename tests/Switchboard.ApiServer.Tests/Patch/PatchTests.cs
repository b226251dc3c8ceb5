using System.Text.Json.Nodes;
using Switchboard.ApiServer.Patch;

namespace Switchboard.ApiServer.Tests.Patch;

public sealed class PatchTests
{
    private const string Deployment = """
        {"metadata":{"name":"d","labels":{"a":"1","b":"2"},"finalizers":["x"]},
         "spec":{"template":{"spec":{"containers":[
           {"name":"nginx","image":"nginx:1","ports":[{"containerPort":80,"protocol":"TCP"}]},
           {"name":"side","image":"busybox"}]}}}}
        """;

    [Fact]
    public void Strategic_merge_merges_containers_by_name_and_ports_by_container_port()
    {
        var patch = JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2","ports":[{"containerPort":443}]}]}}}}""");

        var result = StrategicMergePatch.Apply(JsonNode.Parse(Deployment), patch)!;

        var containers = result["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(2, containers.Count);
        Assert.Equal("nginx:2", containers[0]!["image"]!.GetValue<string>());
        Assert.Equal([80, 443], containers[0]!["ports"]!.AsArray().Select(p => p!["containerPort"]!.GetValue<int>()));
        Assert.Equal("busybox", containers[1]!["image"]!.GetValue<string>());
    }

    [Fact]
    public void Strategic_merge_directives_delete_items_and_order_lists()
    {
        var patch = JsonNode.Parse("""
            {"metadata":{"labels":{"a":null},"finalizers":["y"]},
             "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"nginx"}],
               "containers":[{"name":"nginx","$patch":"delete"},{"name":"side","image":"busybox:2"}]}}}}
            """);

        var result = StrategicMergePatch.Apply(JsonNode.Parse(Deployment), patch)!;

        Assert.Equal("""{"b":"2"}""", result["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("""["x","y"]""", result["metadata"]!["finalizers"]!.ToJsonString());
        var containers = result["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal("""[{"name":"side","image":"busybox:2"}]""", containers.ToJsonString());
    }

    [Fact]
    public void Merge_patch_replaces_lists_and_null_deletes()
    {
        var patch = JsonNode.Parse("""{"metadata":{"labels":{"b":null,"c":"3"},"finalizers":["y"]}}""");

        var result = MergePatch.Apply(JsonNode.Parse(Deployment), patch)!;

        Assert.Equal("""{"a":"1","c":"3"}""", result["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("""["y"]""", result["metadata"]!["finalizers"]!.ToJsonString());
    }

    [Fact]
    public void Json_patch_applies_operations_in_order()
    {
        var patch = JsonNode.Parse("""
            [{"op":"test","path":"/metadata/name","value":"d"},
             {"op":"replace","path":"/metadata/labels/a","value":"9"},
             {"op":"add","path":"/metadata/finalizers/-","value":"z"},
             {"op":"remove","path":"/metadata/labels/b"},
             {"op":"copy","from":"/metadata/name","path":"/metadata/labels/name"}]
            """);

        var result = JsonPatch.Apply(JsonNode.Parse(Deployment)!, patch);

        Assert.Equal("""{"a":"9","name":"d"}""", result["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("""["x","z"]""", result["metadata"]!["finalizers"]!.ToJsonString());
    }
}
