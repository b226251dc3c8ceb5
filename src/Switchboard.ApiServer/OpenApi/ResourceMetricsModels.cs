using System.ComponentModel;
using System.Text.Json.Serialization;
using k8s.Models;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>The fields PodMetrics and NodeMetrics share: the object's identity and the window its usage was sampled over.</summary>
internal abstract class MetricsSample
{
    [JsonPropertyName("apiVersion")]
    [Description(MetricsDocs.ApiVersion)]
    public string? ApiVersion { get; set; }

    [JsonPropertyName("kind")]
    [Description(MetricsDocs.Kind)]
    public string? Kind { get; set; }

    [JsonPropertyName("metadata")]
    [Description(MetricsDocs.Metadata)]
    public V1ObjectMeta? Metadata { get; set; }

    [JsonPropertyName("timestamp")]
    [Description(MetricsDocs.Timestamp)]
    public DateTime Timestamp { get; set; }

    [JsonPropertyName("window")]
    public string? Window { get; set; }
}

/// <summary>
/// metrics.k8s.io/v1beta1's PodMetrics as k8s.io/metrics declares it, for its OpenAPI schema only (the handler writes
/// its answers as JSON): KubernetesClient's own PodMetrics lacks apiVersion and kind and carries the client's words,
/// not upstream's. The <see cref="DescriptionAttribute"/>s are upstream's descriptions (<see cref="ModelDocs"/>).
/// </summary>
[Description("PodMetrics sets resource usage metrics of a pod.")]
internal sealed class V1beta1PodMetrics : MetricsSample
{
    [JsonPropertyName("containers")]
    [Description("Metrics for all containers are collected within the same time window.")]
    public IList<V1beta1ContainerMetrics>? Containers { get; set; }
}

/// <summary>metrics.k8s.io/v1beta1's NodeMetrics as k8s.io/metrics declares it, for its schema (see <see cref="V1beta1PodMetrics"/>).</summary>
[Description("NodeMetrics sets resource usage metrics of a node.")]
internal sealed class V1beta1NodeMetrics : MetricsSample
{
    [JsonPropertyName("usage")]
    [Description(MetricsDocs.Usage)]
    public IDictionary<string, ResourceQuantity>? Usage { get; set; }
}

/// <summary>metrics.k8s.io/v1beta1's ContainerMetrics, one container's usage in a <see cref="V1beta1PodMetrics"/>.</summary>
[Description("ContainerMetrics sets resource usage metrics of a container.")]
internal sealed class V1beta1ContainerMetrics
{
    [JsonPropertyName("name")]
    [Description("Container name corresponding to the one from pod.spec.containers.")]
    public string? Name { get; set; }

    [JsonPropertyName("usage")]
    [Description(MetricsDocs.Usage)]
    public IDictionary<string, ResourceQuantity>? Usage { get; set; }
}

/// <summary>The descriptions the metrics types share with each other and with every kind.</summary>
internal static class MetricsDocs
{
    public const string ApiVersion = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
    public const string Kind = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
    public const string Metadata = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
    public const string Timestamp = "The following fields define time interval from which metrics were collected from the interval [Timestamp-Window, Timestamp].";
    public const string Usage = "The memory usage is the memory working set.";
}
