using System.Text.Json.Serialization;

namespace Switchboard.EtcdFront.V2;

/// <summary>etcd v2's error body: <c>{"errorCode":100,"message":"Key not found","cause":"/skydns/x","index":7}</c>.</summary>
internal sealed record V2Error(
    [property: JsonPropertyName("errorCode")] int ErrorCode,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("cause")] string Cause,
    [property: JsonPropertyName("index")] long Index);

/// <summary>Source-generated JSON for <see cref="V2Error"/>.</summary>
[JsonSerializable(typeof(V2Error))]
internal sealed partial class V2JsonContext : JsonSerializerContext;
