using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Switchboard.ApiServer.Http;
using Switchboard.ApiServer.Kinds;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Tests.Http;

/// <summary>
/// Lists written as UTF-8 straight into the response: byte for byte the document the string-built list was, however
/// many pieces a long list goes out in, and still a Table when kubectl asks for one.
/// </summary>
public sealed class ResourceResponsesTests
{
    private static readonly ResourceKind<V1ConfigMap> Kind = ResourceKind<V1ConfigMap>.Create(new ConfigMapStrategy(), namespaced: true);
    private readonly ResourceResponses<V1ConfigMap> _responses = new(Kind, new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero)));

    [Fact]
    public async Task A_long_list_is_the_same_document_the_string_built_list_was()
    {
        // About 300 KiB, several pieces; values that need escaping and a non-ASCII one.
        var items = Enumerable.Range(0, 300).Select(i => ConfigMap($"cm-{i}", $"line \"{i}\" <&> é\n" + new string('x', 1000))).ToList();
        var http = NewContext();

        await _responses.WriteListAsync(http, items, 4711, "next-page", 12);

        string expected = "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"4711\",\"continue\":\"next-page\",\"remainingItemCount\":12},\"items\":["
            + string.Join(",", items.Select(item => KubernetesJson.Serialize(item))) + "]}";
        Assert.Equal((200, "application/json"), (http.Response.StatusCode, http.Response.ContentType));
        Assert.Equal(expected, Body(http));
    }

    [Fact]
    public async Task An_empty_last_page_has_only_its_resource_version()
    {
        var http = NewContext();

        await _responses.WriteListAsync(http, [], 9, continueToken: null, remainingItemCount: 5);

        Assert.Equal("{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[]}", Body(http));
    }

    [Fact]
    public async Task A_page_asked_for_as_a_table_is_a_table_of_its_rows()
    {
        var http = NewContext();
        http.Request.Headers.Accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

        await _responses.WritePageAsync(http, new ListResult<V1ConfigMap>([ConfigMap("a", "1"), ConfigMap("b", "2")], 30, "more", null));

        var table = JsonNode.Parse(Body(http))!;
        Assert.Equal(("Table", "30", "more"), (table["kind"]!.GetValue<string>(), table["metadata"]!["resourceVersion"]!.GetValue<string>(), table["metadata"]!["continue"]!.GetValue<string>()));
        Assert.Equal(["a", "b"], table["rows"]!.AsArray().Select(r => r!["cells"]![0]!.GetValue<string>()));
        Assert.Equal("PartialObjectMetadata", table["rows"]![0]!["object"]!["kind"]!.GetValue<string>());
    }

    private static DefaultHttpContext NewContext()
    {
        var http = new DefaultHttpContext();
        http.Response.Body = new MemoryStream();
        return http;
    }

    private static string Body(HttpContext http) => Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());

    private static V1ConfigMap ConfigMap(string name, string value) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = $"uid-{name}", ResourceVersion = "7", CreationTimestamp = new DateTime(2026, 3, 1, 11, 0, 0, DateTimeKind.Utc) },
        Data = new Dictionary<string, string> { ["value"] = value },
    };
}
