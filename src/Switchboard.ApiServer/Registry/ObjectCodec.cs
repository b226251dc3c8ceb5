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
        where T : IKubernetesObject<V1ObjectMeta> => Decode<T>(kv.Key, kv.Value, kv.ModRevision);

    /// <summary>The object stored at <paramref name="key"/> as <paramref name="json"/>, at its resourceVersion.</summary>
    public static T Decode<T>(string key, ReadOnlySpan<byte> json, long modRevision)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        T? obj;
        try
        {
            obj = ModelJson.FromUtf8Bytes<T>(json);
        }
        catch (JsonException e)
        {
            throw ApiException.Internal($"stored object {key} cannot be decoded: {e.Message}");
        }

        if (obj is null)
        {
            throw ApiException.Internal($"stored object {key} is null");
        }

        obj.Metadata ??= new V1ObjectMeta();
        obj.Metadata.ResourceVersion = modRevision.ToString(System.Globalization.CultureInfo.InvariantCulture);
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
