using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.Kube.Serialization;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Registry;

/// <summary>Objects to and from their stored JSON (the models' JSON), with resourceVersion taken from the store.</summary>
internal static class ObjectCodec
{
    /// <summary>
    /// The stored JSON; an object over the store's limit (a patch may grow one past it) is 413, the client's error, as
    /// kube-apiserver refuses what etcd would not take, rather than the store's failure.
    /// </summary>
    public static byte[] Encode<T>(T obj)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        string? resourceVersion = obj.Metadata.ResourceVersion;
        obj.Metadata.ResourceVersion = null;
        try
        {
            byte[] encoded = ModelJson.ToUtf8Bytes(obj);
            return encoded.Length <= StorageLimits.MaxValueBytes
                ? encoded
                : throw ApiException.RequestEntityTooLarge($"the object is {encoded.Length} bytes, over the limit of {StorageLimits.MaxValueBytes} one object may have in storage");
        }
        finally
        {
            obj.Metadata.ResourceVersion = resourceVersion;
        }
    }

    public static T Decode<T>(KeyValue kv)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        T? obj;
        try
        {
            obj = ModelJson.FromUtf8Bytes<T>(kv.Value);
        }
        catch (JsonException e)
        {
            throw ApiException.Internal($"stored object {kv.Key} cannot be decoded: {e.Message}");
        }

        if (obj is null)
        {
            throw ApiException.Internal($"stored object {kv.Key} is null");
        }

        obj.Metadata ??= new V1ObjectMeta();
        obj.Metadata.ResourceVersion = kv.ModRevision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return obj;
    }

    public static JsonObject ToNode<T>(T obj) => (JsonObject)ModelJson.ToNode(obj)!;

    public static T FromNode<T>(JsonNode node, string kind)
    {
        try
        {
            return ModelJson.FromNode<T>(node) ?? throw ApiException.BadRequest($"{kind} in body is null");
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            throw ApiException.BadRequest($"{kind} in version cannot be handled as a {kind}: {e.Message}");
        }
    }
}
