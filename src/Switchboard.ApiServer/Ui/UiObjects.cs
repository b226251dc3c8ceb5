using System.Text.Json.Nodes;
using k8s.Models;

namespace Switchboard.ApiServer.Ui;

/// <summary>
/// The little of each object the web view shows, as the JSON the page keeps: the page never sees whole objects (no
/// annotations, env or secrets' data), and a change sends only this.
/// </summary>
internal static class UiObjects
{
    public static JsonObject Namespace(V1Namespace n) => new() { ["name"] = n.Metadata.Name, ["phase"] = n.Status?.Phase };

    public static JsonObject Node(V1Node n) => new()
    {
        ["name"] = n.Metadata.Name,
        ["ready"] = n.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status == "True",
        ["ip"] = n.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address,
        ["podCIDR"] = n.Spec?.PodCIDR,
    };

    public static JsonObject Service(V1Service s, string clusterDomain) => new()
    {
        ["namespace"] = s.Metadata.NamespaceProperty,
        ["name"] = s.Metadata.Name,
        ["type"] = s.Spec?.Type ?? "ClusterIP",
        ["clusterIP"] = s.Spec?.ClusterIP,
        ["dns"] = $"{s.Metadata.Name}.{s.Metadata.NamespaceProperty}.svc.{clusterDomain}",
        ["ports"] = new JsonArray([.. (s.Spec?.Ports ?? []).Select(p => new JsonObject
        {
            ["name"] = p.Name,
            ["port"] = p.Port,
            ["protocol"] = p.Protocol ?? "TCP",
            ["targetPort"] = p.TargetPort?.Value,
            ["nodePort"] = p.NodePort,
        })]),
    };

    /// <summary>A Service's endpoints from all its slices: address, pod, node, and the ready/serving/terminating conditions.</summary>
    public static JsonArray Endpoints(IEnumerable<V1EndpointSlice> slices) =>
        [.. slices.SelectMany(slice => (slice.Endpoints ?? []).SelectMany(e => e.Addresses.Select(ip => (JsonNode)new JsonObject
        {
            ["ip"] = ip,
            ["ports"] = new JsonArray([.. (slice.Ports ?? []).Select(p => JsonValue.Create(p.Port ?? 0))]),
            ["pod"] = e.TargetRef?.Kind == "Pod" ? e.TargetRef.Name : null,
            ["node"] = e.NodeName,
            ["ready"] = e.Conditions?.Ready ?? true,
            ["serving"] = e.Conditions?.Serving ?? e.Conditions?.Ready ?? true,
            ["terminating"] = e.Conditions?.Terminating ?? false,
        })))];

    public static JsonObject Pod(V1Pod p) => new()
    {
        ["namespace"] = p.Metadata.NamespaceProperty,
        ["name"] = p.Metadata.Name,
        ["phase"] = p.Status?.Phase,
        ["ip"] = p.Status?.PodIP,
        ["node"] = p.Spec?.NodeName,
        ["ready"] = p.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status == "True",
        ["terminating"] = p.Metadata.DeletionTimestamp is not null,
        ["created"] = p.Metadata.CreationTimestamp?.ToUniversalTime().ToString("O"),
        ["owner"] = p.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true)?.Name,
        ["containers"] = new JsonArray([.. (p.Spec?.Containers ?? []).Select(c =>
        {
            V1ContainerStatus? status = p.Status?.ContainerStatuses?.FirstOrDefault(s => s.Name == c.Name);
            return new JsonObject
            {
                ["name"] = c.Name,
                ["image"] = c.Image,
                ["ready"] = status?.Ready ?? false,
                ["restarts"] = status?.RestartCount ?? 0,
                ["state"] = status?.State?.Running is not null ? "running" : status?.State?.Terminated is not null ? "terminated" : "waiting",
                ["reason"] = status?.State?.Waiting?.Reason ?? status?.State?.Terminated?.Reason,
            };
        })]),
    };
}
