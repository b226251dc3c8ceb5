using k8s.Models;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>Nodes (cluster-scoped), registered and kept alive by the node agent.</summary>
internal sealed class NodeStrategy : ResourceStrategy<V1Node>
{
    private static readonly IReadOnlyList<TableColumn<V1Node>> Table =
    [
        Columns.Name<V1Node>(),
        new("Status", "string", 0, (n, _) => Status(n), "", "The status of the node"),
        new("Roles", "string", 0, (n, _) => Roles(n), "", "The roles of the node"),
        Columns.Age<V1Node>(),
        new("Version", "string", 0, (n, _) => n.Status?.NodeInfo?.KubeletVersion ?? "", "", "Kubelet Version reported by the node."),
        new("Internal-IP", "string", 1, (n, _) => Columns.OrNone(n.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address), "", "List of internal IPs."),
        new("External-IP", "string", 1, (n, _) => Columns.OrNone(n.Status?.Addresses?.FirstOrDefault(a => a.Type == "ExternalIP")?.Address), "", "List of external IPs."),
        new("OS-Image", "string", 1, (n, _) => n.Status?.NodeInfo?.OsImage ?? "<unknown>", "", "OS image reported by the node."),
        new("Kernel-Version", "string", 1, (n, _) => n.Status?.NodeInfo?.KernelVersion ?? "<unknown>", "", "Kernel version reported by the node."),
        new("Container-Runtime", "string", 1, (n, _) => n.Status?.NodeInfo?.ContainerRuntimeVersion ?? "<unknown>", "", "Container runtime reported by the node."),
    ];

    public override IReadOnlyList<TableColumn<V1Node>> TableColumns => Table;

    public override IReadOnlyDictionary<string, Func<V1Node, string?>> SelectableFields { get; } =
        new Dictionary<string, Func<V1Node, string?>> { ["spec.unschedulable"] = n => n.Spec?.Unschedulable == true ? "true" : "false" };

    private static string Status(V1Node n)
    {
        var ready = n.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        string status = ready?.Status switch
        {
            "True" => "Ready",
            null => "Unknown",
            _ => "NotReady",
        };
        return n.Spec?.Unschedulable == true ? status + ",SchedulingDisabled" : status;
    }

    private static string Roles(V1Node n)
    {
        const string prefix = "node-role.kubernetes.io/";
        var roles = (n.Metadata.Labels ?? new Dictionary<string, string>()).Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k[prefix.Length..]).Where(r => r.Length > 0).Order(StringComparer.Ordinal).ToList();
        return roles.Count == 0 ? "<none>" : string.Join(",", roles);
    }
}
