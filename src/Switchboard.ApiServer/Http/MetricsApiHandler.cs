using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Discovery;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.OpenApi;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Selectors;
using Switchboard.ApiServer.Usage;
using Switchboard.Kube.Selectors;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// The resource metrics API (<c>metrics.k8s.io/v1beta1</c>) that metrics-server serves and <c>kubectl top</c> reads:
/// NodeMetrics and PodMetrics, get and list (with label selectors, one namespace or all), computed from the nodes'
/// resource usage (<see cref="NodeUsage"/>): cpu in nanocores over the window, memory as the working set, each with
/// its timestamp and window. Read-only; a pod or node without a window yet is not listed, and its get is 404.
/// </summary>
internal sealed class MetricsApiHandler(NodeUsage usage, ResourceStore<V1Pod> pods, TimeProvider time)
{
    public const string Group = "metrics.k8s.io";
    public const string Version = "v1beta1";
    private const string GroupVersion = Group + "/" + Version;

    /// <summary>What discovery lists of the group version, as metrics-server registers it.</summary>
    public static ServedGroup Discovery { get; } = new(Group, Version,
        [
            new ServedResource("nodes", "NodeMetrics", Namespaced: false, ["get", "list"], typeof(V1beta1NodeMetrics)),
            new ServedResource("pods", "PodMetrics", Namespaced: true, ["get", "list"], typeof(V1beta1PodMetrics)),
        ]);

    public async Task HandleAsync(HttpContext http, string[] rest)
    {
        if (http.Request.Method != "GET")
        {
            throw ApiException.MethodNotAllowed(http.Request.Method, rest.Contains("pods") ? "PodMetrics" : "NodeMetrics");
        }

        var labels = LabelSelectorParameter.Parse(http.Request.Query["labelSelector"]);
        var ct = http.RequestAborted;
        switch (rest)
        {
            case ["nodes"]:
                await ApiJson.WriteAsync(http, 200, List("NodeMetricsList", await NodeMetricsAsync(null, labels, ct)));
                return;
            case ["nodes", var node]:
                await ApiJson.WriteAsync(http, 200, (await NodeMetricsAsync(node, LabelSelector.Everything, ct)).FirstOrDefault()
                    ?? throw ApiException.NotFound("nodemetrics", node, Group));
                return;
            case ["pods"]:
                await ApiJson.WriteAsync(http, 200, List("PodMetricsList", await PodMetricsAsync(null, null, labels, ct)));
                return;
            case ["namespaces", var ns, "pods"]:
                await ApiJson.WriteAsync(http, 200, List("PodMetricsList", await PodMetricsAsync(ns, null, labels, ct)));
                return;
            case ["namespaces", var ns, "pods", var pod]:
                await ApiJson.WriteAsync(http, 200, (await PodMetricsAsync(ns, pod, LabelSelector.Everything, ct)).FirstOrDefault()
                    ?? throw ApiException.NotFound("podmetrics", pod, Group));
                return;
            default:
                throw ApiException.PathNotFound();
        }
    }

    private async Task<List<JsonObject>> NodeMetricsAsync(string? name, LabelSelector labels, CancellationToken ct)
    {
        var items = new List<JsonObject>();
        foreach (var window in await usage.WindowsAsync(ct))
        {
            var node = window.Node;
            if ((name is not null && node.Metadata.Name != name) || !labels.Matches(node.Metadata.Labels) || window.NodeUsage is not { } used)
            {
                continue;
            }

            var item = Item("NodeMetrics", node.Metadata, used);
            item["usage"] = Quantities(used);
            items.Add(item);
        }

        return [.. items.OrderBy(i => i["metadata"]!["name"]!.ToString(), StringComparer.Ordinal)];
    }

    private async Task<List<JsonObject>> PodMetricsAsync(string? ns, string? name, LabelSelector labels, CancellationToken ct)
    {
        var byPod = (await usage.WindowsAsync(ct)).SelectMany(w => w.Containers())
            .GroupBy(c => (c.Key.Namespace, c.Key.Pod))
            .ToDictionary(g => g.Key, g => g.OrderBy(c => c.Key.Container, StringComparer.Ordinal).ToList());
        var candidates = new List<V1Pod>();
        if (name is null)
        {
            candidates.AddRange((await pods.ListAsync(ns, labels, FieldSelector.Everything, 0, null, 0, ct)).Items);
        }
        else if (await pods.TryGetAsync(ns, name, ct) is { } one)
        {
            candidates.Add(one);
        }

        var items = new List<JsonObject>();
        foreach (var pod in candidates)
        {
            if (!byPod.TryGetValue((pod.Metadata.NamespaceProperty, pod.Metadata.Name), out var containers))
            {
                continue;
            }

            var last = containers.MaxBy(c => c.Usage.Timestamp).Usage;
            var item = Item("PodMetrics", pod.Metadata, last);
            item["containers"] = new JsonArray([.. containers.Select(c => (JsonNode)new JsonObject { ["name"] = c.Key.Container, ["usage"] = Quantities(c.Usage) })]);
            items.Add(item);
        }

        return items;
    }

    private JsonObject Item(string kind, V1ObjectMeta meta, UsageRate used)
    {
        var metadata = new JsonObject { ["name"] = meta.Name };
        if (meta.NamespaceProperty is { } ns)
        {
            metadata["namespace"] = ns;
        }

        // metrics-server stamps each item as created now; the labels are the object's.
        metadata["creationTimestamp"] = ModelJson.ToNode(TruncatedNow());
        if (meta.Labels is { Count: > 0 } labels)
        {
            metadata["labels"] = ModelJson.ToNode(labels);
        }

        return new JsonObject
        {
            ["kind"] = kind,
            ["apiVersion"] = GroupVersion,
            ["metadata"] = metadata,
            ["timestamp"] = ModelJson.ToNode(new DateTime(used.Timestamp.UtcTicks - (used.Timestamp.UtcTicks % TimeSpan.TicksPerSecond), DateTimeKind.Utc)),
            ["window"] = GoDuration(used.Window),
        };
    }

    private DateTime TruncatedNow()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
    }

    private static JsonObject List(string kind, List<JsonObject> items) => new()
    {
        ["kind"] = kind,
        ["apiVersion"] = GroupVersion,
        ["metadata"] = new JsonObject(),
        ["items"] = new JsonArray([.. items.Cast<JsonNode>()]),
    };

    /// <summary>cpu in nanocores (<c>123456n</c>), memory in bytes as resource.Quantity prints a binary amount (<c>4096Ki</c>).</summary>
    private static JsonObject Quantities(UsageRate used)
    {
        long nanocores = (long)Math.Round(used.Cores * 1e9);
        long bytes = (long)used.MemoryBytes;
        return new JsonObject
        {
            ["cpu"] = nanocores.ToString(CultureInfo.InvariantCulture) + "n",
            ["memory"] = bytes % 1024 == 0 && bytes != 0 ? (bytes / 1024).ToString(CultureInfo.InvariantCulture) + "Ki" : bytes.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>A window as Go's time.Duration prints it (<c>1.004s</c>, <c>1m0.5s</c>).</summary>
    private static string GoDuration(TimeSpan window)
    {
        int minutes = (int)window.TotalMinutes;
        double seconds = window.TotalSeconds - (minutes * 60);
        string s = Math.Round(seconds, 9).ToString("0.#########", CultureInfo.InvariantCulture) + "s";
        return minutes > 0 ? minutes.ToString(CultureInfo.InvariantCulture) + "m" + s : s;
    }
}
