namespace Switchboard.ApiServer.Protobuf;

/// <summary>
/// The k8s.io/api messages (field numbers from their generated.proto) that kubectl 1.32's typed clients send as
/// protobuf for the kinds this server serves: <c>kubectl create namespace|service|deployment|configmap|job|cronjob|poddisruptionbudget</c>
/// (and <c>create job --from=cronjob/NAME</c>), <c>kubectl drain</c>'s Evictions, the RBAC kinds and service accounts
/// (<c>kubectl create role|rolebinding|serviceaccount|token</c>) and the reviews of <c>kubectl auth can-i|whoami</c>.
/// One line per message: <c>number jsonName type</c> separated by semicolons. Types: string, bytes, int, bool,
/// IntOrString, Quantity, map&lt;T&gt;, a message name, or <c>ignore</c> (read-only fields the server sets itself);
/// a <c>[]</c> prefix repeats, a <c>?</c> suffix on the name marks a pointer field whose zero value is meaningful.
/// Fields not listed are accepted only when zero, so nothing a client sends is silently dropped.
/// </summary>
internal static class ProtobufSchema
{
    /// <summary>The message of each top-level kind.</summary>
    public static IReadOnlySet<string> Kinds { get; } = new HashSet<string>(StringComparer.Ordinal) { "Namespace", "Service", "Deployment", "ConfigMap", "Secret", "Job", "CronJob", "PodDisruptionBudget", "Eviction" };

    /// <summary>The RBAC, service-account and review kinds kubectl's typed clients send as protobuf.</summary>
    public static IReadOnlySet<string> AccessKinds { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount", "TokenRequest",
        "SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectReview",
    };

    public static IReadOnlyDictionary<string, IReadOnlyDictionary<int, FieldSpec>> Messages { get; } = Parse(new Dictionary<string, string>
    {
        ["ObjectMeta"] = "1 name string; 2 generateName string; 3 namespace string; 4 selfLink ignore; 5 uid string; 6 resourceVersion string; " +
            "7 generation int; 8 creationTimestamp ignore; 9 deletionTimestamp ignore; 10 deletionGracePeriodSeconds? int; " +
            "11 labels map<string>; 12 annotations map<string>; 13 ownerReferences []OwnerReference; 14 finalizers []string; 17 managedFields ignore",
        ["OwnerReference"] = "1 kind string; 3 name string; 4 uid string; 5 apiVersion string; 6 controller? bool; 7 blockOwnerDeletion? bool",
        ["Namespace"] = "1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status ignore",
        ["NamespaceSpec"] = "1 finalizers []string",
        ["ConfigMap"] = "1 metadata ObjectMeta; 2 data map<string>; 3 binaryData map<bytes>; 4 immutable? bool",
        ["Secret"] = "1 metadata ObjectMeta; 2 data map<bytes>; 3 type string; 4 stringData map<string>; 5 immutable? bool",
        ["Service"] = "1 metadata ObjectMeta; 2 spec ServiceSpec; 3 status ignore",
        ["ServiceSpec"] = "1 ports []ServicePort; 2 selector map<string>; 3 clusterIP string; 4 type string; 5 externalIPs []string; " +
            "7 sessionAffinity string; 8 loadBalancerIP string; 9 loadBalancerSourceRanges []string; 10 externalName string; " +
            "11 externalTrafficPolicy string; 12 healthCheckNodePort int; 13 publishNotReadyAddresses bool; " +
            "14 sessionAffinityConfig SessionAffinityConfig; 17 ipFamilyPolicy? string; 18 clusterIPs []string; 19 ipFamilies []string; " +
            "20 allocateLoadBalancerNodePorts? bool; 21 loadBalancerClass? string; 22 internalTrafficPolicy? string; 23 trafficDistribution? string",
        ["ServicePort"] = "1 name string; 2 protocol string; 3 port int; 4 targetPort IntOrString; 5 nodePort int; 6 appProtocol? string",
        ["SessionAffinityConfig"] = "1 clientIP ClientIPConfig",
        ["ClientIPConfig"] = "1 timeoutSeconds? int",
        ["Deployment"] = "1 metadata ObjectMeta; 2 spec DeploymentSpec; 3 status ignore",
        ["DeploymentSpec"] = "1 replicas? int; 2 selector LabelSelector; 3 template PodTemplateSpec; 4 strategy DeploymentStrategy; " +
            "5 minReadySeconds int; 6 revisionHistoryLimit? int; 7 paused bool; 9 progressDeadlineSeconds? int",
        ["DeploymentStrategy"] = "1 type string; 2 rollingUpdate RollingUpdateDeployment",
        ["RollingUpdateDeployment"] = "1 maxUnavailable IntOrString; 2 maxSurge IntOrString",
        ["Job"] = "1 metadata ObjectMeta; 2 spec JobSpec; 3 status ignore",
        ["JobSpec"] = "1 parallelism? int; 2 completions? int; 3 activeDeadlineSeconds? int; 4 selector LabelSelector; 5 manualSelector? bool; " +
            "6 template PodTemplateSpec; 7 backoffLimit? int; 8 ttlSecondsAfterFinished? int; 9 completionMode? string; 10 suspend? bool; " +
            "12 backoffLimitPerIndex? int; 13 maxFailedIndexes? int; 14 podReplacementPolicy? string; 15 managedBy? string",
        ["CronJob"] = "1 metadata ObjectMeta; 2 spec CronJobSpec; 3 status ignore",
        ["CronJobSpec"] = "1 schedule string; 2 startingDeadlineSeconds? int; 3 concurrencyPolicy string; 4 suspend? bool; 5 jobTemplate JobTemplateSpec; " +
            "6 successfulJobsHistoryLimit? int; 7 failedJobsHistoryLimit? int; 8 timeZone? string",
        ["JobTemplateSpec"] = "1 metadata ObjectMeta; 2 spec JobSpec",
        ["LabelSelector"] = "1 matchLabels map<string>; 2 matchExpressions []LabelSelectorRequirement",
        ["LabelSelectorRequirement"] = "1 key string; 2 operator string; 3 values []string",
        ["PodTemplateSpec"] = "1 metadata ObjectMeta; 2 spec PodSpec",
        ["PodSpec"] = "2 containers []Container; 3 restartPolicy string; 4 terminationGracePeriodSeconds? int; 5 activeDeadlineSeconds? int; " +
            "6 dnsPolicy string; 7 nodeSelector map<string>; 8 serviceAccountName string; 9 serviceAccount string; 10 nodeName string; " +
            "11 hostNetwork bool; 12 hostPID bool; 13 hostIPC bool; 16 hostname string; 17 subdomain string; 19 schedulerName string; " +
            "20 initContainers []Container; 21 automountServiceAccountToken? bool; 24 priorityClassName string; 25 priority? int; 30 enableServiceLinks? bool",
        ["Container"] = "1 name string; 2 image string; 3 command []string; 4 args []string; 5 workingDir string; 6 ports []ContainerPort; " +
            "7 env []EnvVar; 8 resources ResourceRequirements; 13 terminationMessagePath string; 14 imagePullPolicy string; " +
            "16 stdin bool; 17 stdinOnce bool; 18 tty bool; 20 terminationMessagePolicy string",
        ["ContainerPort"] = "1 name string; 2 hostPort int; 3 containerPort int; 4 protocol string; 5 hostIP string",
        ["EnvVar"] = "1 name string; 2 value string",
        ["ResourceRequirements"] = "1 limits map<Quantity>; 2 requests map<Quantity>",
        ["PolicyRule"] = "1 verbs []string; 2 apiGroups []string; 3 resources []string; 4 resourceNames []string; 5 nonResourceURLs []string",
        ["Role"] = "1 metadata ObjectMeta; 2 rules []PolicyRule",
        ["ClusterRole"] = "1 metadata ObjectMeta; 2 rules []PolicyRule; 3 aggregationRule AggregationRule",
        ["AggregationRule"] = "1 clusterRoleSelectors []LabelSelector",
        ["RoleBinding"] = "1 metadata ObjectMeta; 2 subjects []Subject; 3 roleRef RoleRef",
        ["ClusterRoleBinding"] = "1 metadata ObjectMeta; 2 subjects []Subject; 3 roleRef RoleRef",
        ["Subject"] = "1 kind string; 2 apiGroup string; 3 name string; 4 namespace string",
        ["RoleRef"] = "1 apiGroup string; 2 kind string; 3 name string",
        ["ServiceAccount"] = "1 metadata ObjectMeta; 2 secrets []ObjectReference; 3 imagePullSecrets []LocalObjectReference; 4 automountServiceAccountToken? bool",
        ["ObjectReference"] = "1 kind string; 2 namespace string; 3 name string; 4 uid string; 5 apiVersion string; 6 resourceVersion string; 7 fieldPath string",
        ["LocalObjectReference"] = "1 name string",
        ["TokenRequest"] = "1 metadata ObjectMeta; 2 spec TokenRequestSpec; 3 status ignore",
        ["TokenRequestSpec"] = "1 audiences []string; 3 boundObjectRef BoundObjectReference; 4 expirationSeconds? int",
        ["BoundObjectReference"] = "1 kind string; 2 apiVersion string; 3 name string; 4 uid string",
        ["SelfSubjectAccessReview"] = "1 metadata ObjectMeta; 2 spec SelfSubjectAccessReviewSpec; 3 status ignore",
        ["SelfSubjectAccessReviewSpec"] = "1 resourceAttributes ResourceAttributes; 2 nonResourceAttributes NonResourceAttributes",
        ["ResourceAttributes"] = "1 namespace string; 2 verb string; 3 group string; 4 version string; 5 resource string; 6 subresource string; 7 name string",
        ["NonResourceAttributes"] = "1 path string; 2 verb string",
        ["SelfSubjectRulesReview"] = "1 metadata ObjectMeta; 2 spec SelfSubjectRulesReviewSpec; 3 status ignore",
        ["SelfSubjectRulesReviewSpec"] = "1 namespace string",
        ["SubjectAccessReview"] = "1 metadata ObjectMeta; 2 spec SubjectAccessReviewSpec; 3 status ignore",
        ["LocalSubjectAccessReview"] = "1 metadata ObjectMeta; 2 spec SubjectAccessReviewSpec; 3 status ignore",
        ["SubjectAccessReviewSpec"] = "1 resourceAttributes ResourceAttributes; 2 nonResourceAttributes NonResourceAttributes; 3 user string; 4 groups []string; 6 uid string",
        ["SelfSubjectReview"] = "1 metadata ObjectMeta; 2 status ignore",
        ["PodDisruptionBudget"] = "1 metadata ObjectMeta; 2 spec PodDisruptionBudgetSpec; 3 status ignore",
        ["PodDisruptionBudgetSpec"] = "1 minAvailable IntOrString; 2 selector LabelSelector; 3 maxUnavailable IntOrString; 4 unhealthyPodEvictionPolicy? string",
        ["Eviction"] = "1 metadata ObjectMeta; 2 deleteOptions DeleteOptions",
        ["DeleteOptions"] = "1 gracePeriodSeconds? int; 2 preconditions Preconditions; 3 orphanDependents? bool; 4 propagationPolicy? string; 5 dryRun []string",
        ["Preconditions"] = "1 uid? string; 2 resourceVersion? string",
    });

    private static Dictionary<string, IReadOnlyDictionary<int, FieldSpec>> Parse(Dictionary<string, string> table)
    {
        var messages = new Dictionary<string, IReadOnlyDictionary<int, FieldSpec>>(StringComparer.Ordinal);
        foreach (var (message, line) in table)
        {
            var fields = new Dictionary<int, FieldSpec>();
            foreach (string entry in line.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = entry.Split(' ');
                string name = parts[1].TrimEnd('?');
                string type = parts[2];
                bool repeated = type.StartsWith("[]", StringComparison.Ordinal);
                fields.Add(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), new FieldSpec(name, repeated ? type[2..] : type, repeated, parts[1].EndsWith('?')));
            }

            messages.Add(message, fields);
        }

        return messages;
    }
}

/// <summary>One field of a message: its JSON name, its type, whether it repeats and whether its zero value is kept.</summary>
internal sealed record FieldSpec(string Name, string Type, bool Repeated, bool Pointer);
