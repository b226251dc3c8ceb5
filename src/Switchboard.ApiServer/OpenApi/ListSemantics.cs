namespace Switchboard.ApiServer.OpenApi;

/// <summary>
/// The merge semantics k8s.io/api declares in struct tags (<c>+listType</c>, <c>+listMapKey</c>, <c>+patchStrategy</c>,
/// <c>+patchMergeKey</c>, <c>+structType=atomic</c>), which the KubernetesClient models do not carry. Keyed by model type
/// and JSON field, not by kind: a kind added later reuses the types it is made of (a StatefulSet's pod template is a
/// PodTemplateSpec), and any list not named here is atomic, as kube-openapi treats an unannotated list.
/// </summary>
internal static class ListSemantics
{
    private const string Merge = "merge";
    private const string MergeRetainKeys = "merge,retainKeys";

    private static readonly (ListType Type, string[] Keys, string? Strategy, string? MergeKey) Atomic = (ListType.Atomic, [], null, null);

    private static readonly Dictionary<(string Type, string Field), (ListType Type, string[] Keys, string? Strategy, string? MergeKey)> Lists = new()
    {
        [("V1ObjectMeta", "ownerReferences")] = (ListType.Map, ["uid"], Merge, "uid"),
        [("V1ObjectMeta", "finalizers")] = (ListType.Set, [], Merge, null),
        [("V1PodSpec", "volumes")] = (ListType.Map, ["name"], MergeRetainKeys, "name"),
        [("V1PodSpec", "initContainers")] = (ListType.Map, ["name"], Merge, "name"),
        [("V1PodSpec", "containers")] = (ListType.Map, ["name"], Merge, "name"),
        [("V1PodSpec", "ephemeralContainers")] = (ListType.Map, ["name"], Merge, "name"),
        [("V1PodSpec", "imagePullSecrets")] = (ListType.Map, ["name"], Merge, "name"),
        [("V1PodSpec", "hostAliases")] = (ListType.Map, ["ip"], Merge, "ip"),
        [("V1PodSpec", "topologySpreadConstraints")] = (ListType.Map, ["topologyKey", "whenUnsatisfiable"], Merge, "topologyKey"),
        [("V1PodSpec", "resourceClaims")] = (ListType.Map, ["name"], MergeRetainKeys, "name"),
        [("V1PodSpec", "schedulingGates")] = (ListType.Map, ["name"], Merge, "name"),
        [("V1Container", "ports")] = (ListType.Map, ["containerPort", "protocol"], Merge, "containerPort"),
        [("V1Container", "env")] = (ListType.Map, ["name"], Merge, "name"),
        [("V1Container", "volumeMounts")] = (ListType.Map, ["mountPath"], Merge, "mountPath"),
        [("V1Container", "volumeDevices")] = (ListType.Map, ["devicePath"], Merge, "devicePath"),
        [("V1EphemeralContainer", "ports")] = (ListType.Map, ["containerPort", "protocol"], Merge, "containerPort"),
        [("V1EphemeralContainer", "env")] = (ListType.Map, ["name"], Merge, "name"),
        [("V1EphemeralContainer", "volumeMounts")] = (ListType.Map, ["mountPath"], Merge, "mountPath"),
        [("V1EphemeralContainer", "volumeDevices")] = (ListType.Map, ["devicePath"], Merge, "devicePath"),
        [("V1ResourceRequirements", "claims")] = (ListType.Map, ["name"], null, null),
        [("V1PodStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1PodStatus", "podIPs")] = (ListType.Map, ["ip"], Merge, "ip"),
        [("V1PodStatus", "hostIPs")] = (ListType.Map, ["ip"], Merge, "ip"),
        [("V1PodStatus", "resourceClaimStatuses")] = (ListType.Map, ["name"], MergeRetainKeys, "name"),
        [("V1ServiceSpec", "ports")] = (ListType.Map, ["port", "protocol"], Merge, "port"),
        [("V1ServiceStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1ServiceAccount", "secrets")] = (ListType.Map, ["name"], Merge, "name"),
        [("V1NodeSpec", "podCIDRs")] = (ListType.Set, [], Merge, null),
        [("V1NodeStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1NodeStatus", "addresses")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1NamespaceStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1DeploymentStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1ReplicaSetStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1StatefulSetStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1DaemonSetStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1JobStatus", "conditions")] = (ListType.Atomic, [], Merge, "type"),
        [("V1PodDisruptionBudgetStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1PersistentVolumeClaimStatus", "conditions")] = (ListType.Map, ["type"], Merge, "type"),
        [("V1Endpoint", "addresses")] = (ListType.Set, [], null, null),
    };

    /// <summary>Structs owned and replaced as a whole (<c>+structType=atomic</c>, published as x-kubernetes-map-type: atomic).</summary>
    private static readonly HashSet<string> AtomicStructs =
    [
        "V1LabelSelector", "V1ObjectReference", "V1LocalObjectReference", "V1TypedLocalObjectReference", "V1ConfigMapKeySelector",
        "V1SecretKeySelector", "V1ObjectFieldSelector", "V1ResourceFieldSelector", "V1ConfigMapEnvSource", "V1SecretEnvSource",
        "V1NodeSelector", "V1NodeSelectorTerm", "V1TopologySelectorTerm",
    ];

    public static (ListType Type, string[] Keys, string? PatchStrategy, string? PatchMergeKey) Of(string type, string field) =>
        Lists.TryGetValue((type, field), out var semantics) ? semantics : Atomic;

    public static bool IsAtomicStruct(string type) => AtomicStructs.Contains(type);
}
