using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Http;

/// <summary>PATCH of an object or its /status: the patch applied to the stored object inside the store's read-modify-write.</summary>
internal sealed class PatchHandler<T>(ResourceStore<T> store, ResourceResponses<T> responses)
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private ResourceKind Kind => store.Kind;

    public async Task PatchAsync(HttpContext http, string? ns, string name, string? subresource)
    {
        var patch = await PatchRequest.ReadAsync(http);
        var updated = await store.UpdateWithAsync(ns, name, null, current => Patched(http, current, patch), subresource, RequestQuery.IsDryRun(http), http.RequestAborted);
        await responses.WriteObjectAsync(http, 200, updated);
    }

    private T Patched(HttpContext http, T current, JsonNode patch)
    {
        var node = ObjectCodec.ToNode(current);
        var patched = PatchRequest.Apply(http, node, patch);
        FieldValidation.Check(http, patched, typeof(T), Kind.Kind, Kind.Version);
        var obj = ObjectCodec.FromNode<T>(patched, Kind.Kind);
        obj.Metadata ??= new V1ObjectMeta();

        // A patch pins the version only if it names one explicitly.
        obj.Metadata.ResourceVersion = patched["metadata"]?["resourceVersion"] is JsonValue v && v.ToString() != current.Metadata.ResourceVersion ? v.ToString() : null;
        return obj;
    }
}
