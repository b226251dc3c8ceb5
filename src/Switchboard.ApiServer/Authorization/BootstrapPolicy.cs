using k8s.Models;
using Switchboard.ApiServer.Authentication;
using Switchboard.Kube.Rbac;

namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start (bootstrappolicy): cluster-admin for
/// system:masters; admin, edit and view built by aggregation from the system:aggregate-to-* roles; discovery, basic-user,
/// public-info-viewer and the service-account issuer discovery for everyone; and a role for each of this cluster's
/// components, bound to the identity each one runs as (its client certificate's CN or O).
/// </summary>
internal static class BootstrapPolicy
{
    public const string AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin";
    public const string AggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit";
    public const string AggregateToView = "rbac.authorization.k8s.io/aggregate-to-view";

    private static readonly string[] Read = ["get", "list", "watch"];
    private static readonly string[] Write = ["create", "delete", "deletecollection", "patch", "update"];
    private static readonly string[] ReadWrite = [.. Read, .. Write];

    public static IReadOnlyList<V1ClusterRole> ClusterRoles { get; } =
    [
        Role("cluster-admin", [Rule(["*"], ["*"], ["*"]), Urls(["*"], "*")]),
        Aggregated("admin", AggregateToAdmin, labels: []),
        Aggregated("edit", AggregateToEdit, labels: [AggregateToAdmin]),
        Aggregated("view", AggregateToView, labels: [AggregateToEdit]),
        Role("system:aggregate-to-admin", [
            Rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
            Rule(ReadWrite, ["rbac.authorization.k8s.io"], ["rolebindings", "roles"]),
        ], AggregateToAdmin),
        Role("system:aggregate-to-edit", [
            Rule(Read, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
            Rule(["impersonate"], [""], ["serviceaccounts"]),
            Rule(Write, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
            Rule(["create"], [""], ["pods/eviction"]),
            Rule(Write, [""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"]),
            Rule(["create"], [""], ["serviceaccounts/token"]),
            Rule(Write, ["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]),
            Rule(Write, ["autoscaling"], ["horizontalpodautoscalers"]),
            Rule(Write, ["batch"], ["cronjobs", "jobs"]),
            Rule(Write, ["policy"], ["poddisruptionbudgets"]),
            Rule(Write, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
            Rule(ReadWrite, ["coordination.k8s.io"], ["leases"]),
        ], AggregateToEdit),
        Role("system:aggregate-to-view", [
            Rule(Read, [""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"]),
            Rule(Read, [""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
            Rule(Read, [""], ["namespaces"]),
            Rule(Read, ["discovery.k8s.io"], ["endpointslices"]),
            Rule(Read, ["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"]),
            Rule(Read, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            Rule(Read, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
            Rule(Read, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
            Rule(Read, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
        ], AggregateToView),
        // What metrics-server's install adds: resource metrics (kubectl top) readable by view, edit and admin.
        Role("system:aggregated-metrics-reader", [Rule(Read, ["metrics.k8s.io"], ["nodes", "pods"])], AggregateToView, AggregateToEdit, AggregateToAdmin),
        Role("system:discovery", [Urls(["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "get")]),
        Role("system:basic-user", [
            Rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            Rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
        ]),
        Role("system:public-info-viewer", [Urls(["/healthz", "/livez", "/readyz", "/version", "/version/"], "get")]),
        Role("system:service-account-issuer-discovery", [Urls(["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"], "get")]),

        // This cluster's controllers in one process: the union of what upstream's per-controller roles grant the ones
        // it runs (the garbage collector and namespace deletion act on every kind; the scheduler binds pods).
        Role("system:kube-controller-manager", [
            Rule([.. Read, "delete", "deletecollection", "patch", "update"], ["*"], ["*"]),
            Rule(["create"], [""], ["bindings", "endpoints", "events", "pods", "pods/binding", "serviceaccounts"]),
            Rule(["create"], [""], ["configmaps"]),
            Rule(["create"], ["apps"], ["replicasets", "controllerrevisions"]),
            Rule(["create"], ["batch"], ["jobs"]),
            Rule(["create"], ["discovery.k8s.io"], ["endpointslices"]),
            Rule(["create", "patch", "update"], ["events.k8s.io"], ["events"]),
            Rule(["create"], ["coordination.k8s.io"], ["leases"]),

            // The aggregation controller writes admin, edit and view, whose rules it does not hold itself.
            Rule(["escalate"], ["rbac.authorization.k8s.io"], ["clusterroles"]),
        ]),

        // kube-proxy's, and the port of its trace endpoint it writes on its Node.
        Role("system:node-proxier", [
            Rule(["list", "watch"], [""], ["endpoints", "services"]),
            Rule(["get", "list", "watch", "patch"], [""], ["nodes"]),
            Rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            Rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
        ]),

        // CoreDNS's reads, and the kube-dns Service with its endpoints, which cluster DNS keeps pointing at itself.
        Role("system:coredns", [
            Rule(["list", "watch", "get"], [""], ["endpoints", "namespaces", "pods", "services"]),
            Rule(["list", "watch", "get"], ["discovery.k8s.io"], ["endpointslices"]),
            Rule(["get"], [""], ["nodes"]),
            Rule(["create", "update", "patch"], [""], ["endpoints", "services"]),
            Rule(["create", "update", "patch"], ["discovery.k8s.io"], ["endpointslices"]),
            Rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        ]),

        // kubelet's system:node role, which kube-apiserver pairs with its Node authorizer; bound here to system:nodes.
        Role("system:node", [
            Rule(["create", "get", "list", "watch", "patch", "update", "delete"], [""], ["nodes"]),
            Rule(["patch", "update"], [""], ["nodes/status"]),
            Rule(["get", "list", "watch", "delete"], [""], ["pods"]),
            Rule(["patch", "update"], [""], ["pods/status"]),
            Rule(["create"], [""], ["pods/eviction", "serviceaccounts/token"]),
            Rule(["get", "list", "watch"], [""], ["configmaps", "secrets", "services", "endpoints", "persistentvolumeclaims", "persistentvolumes"]),
            Rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            Rule(["create", "get", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
        ]),
    ];

    public static IReadOnlyList<V1ClusterRoleBinding> ClusterRoleBindings { get; } =
    [
        Binding("cluster-admin", Group(UserInfo.Masters)),
        Binding("system:discovery", Group(UserInfo.Authenticated)),
        Binding("system:basic-user", Group(UserInfo.Authenticated)),
        Binding("system:public-info-viewer", Group(UserInfo.Authenticated), Group("system:unauthenticated")),
        Binding("system:service-account-issuer-discovery", Group(UserInfo.ServiceAccountsGroup)),
        Binding("system:kube-controller-manager", User(BootstrapIdentities.ControllerManagerUser)),
        Binding("system:node-proxier", User(BootstrapIdentities.ProxyUser)),
        Binding("system:coredns", User(BootstrapIdentities.DnsUser)),
        Binding("system:node", Group(BootstrapIdentities.NodesGroup)),
    ];

    /// <summary>The defaults with admin, edit and view aggregated, as the controller leaves them once it has run.</summary>
    public static List<V1ClusterRole> WithAggregation(IReadOnlyList<V1ClusterRole> roles)
    {
        var result = roles.Select(Copy).ToList();

        // view feeds edit, which feeds admin: repeat until nothing changes.
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var role in result.Where(r => r.AggregationRule is not null))
            {
                var rules = ClusterRoleAggregation.RulesOf(role, result);
                if (!ClusterRoleAggregation.HasRules(role, rules))
                {
                    role.Rules = rules;
                    changed = true;
                }
            }
        }

        return result;
    }

    private static V1ClusterRole Copy(V1ClusterRole role) => new()
    {
        ApiVersion = role.ApiVersion,
        Kind = role.Kind,
        Metadata = new V1ObjectMeta { Name = role.Metadata.Name, Labels = new Dictionary<string, string>(role.Metadata.Labels), Annotations = new Dictionary<string, string>(role.Metadata.Annotations) },
        Rules = role.Rules is null ? null : [.. role.Rules],
        AggregationRule = role.AggregationRule,
    };

    private static V1ClusterRole Role(string name, V1PolicyRule[] rules, params string[] aggregateLabels) => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1",
        Kind = "ClusterRole",
        Metadata = Metadata(name, aggregateLabels),
        Rules = rules,
    };

    private static V1ClusterRole Aggregated(string name, string selectorLabel, string[] labels) => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1",
        Kind = "ClusterRole",
        Metadata = Metadata(name, labels),
        AggregationRule = new V1AggregationRule
        {
            ClusterRoleSelectors = [new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [selectorLabel] = "true" } }],
        },
        Rules = [],
    };

    private static V1ObjectMeta Metadata(string name, string[] trueLabels)
    {
        var labels = new Dictionary<string, string> { ["kubernetes.io/bootstrapping"] = "rbac-defaults" };
        foreach (string label in trueLabels)
        {
            labels[label] = "true";
        }

        return new V1ObjectMeta
        {
            Name = name,
            Labels = labels,
            Annotations = new Dictionary<string, string> { ["rbac.authorization.kubernetes.io/autoupdate"] = "true" },
        };
    }

    private static V1PolicyRule Rule(string[] verbs, string[] groups, string[] resources) => new() { Verbs = verbs, ApiGroups = groups, Resources = resources };

    private static V1PolicyRule Urls(string[] urls, string verb) => new() { Verbs = [verb], NonResourceURLs = urls };

    private static Rbacv1Subject Group(string name) => new() { Kind = "Group", ApiGroup = "rbac.authorization.k8s.io", Name = name };

    private static Rbacv1Subject User(string name) => new() { Kind = "User", ApiGroup = "rbac.authorization.k8s.io", Name = name };

    private static V1ClusterRoleBinding Binding(string role, params Rbacv1Subject[] subjects) => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1",
        Kind = "ClusterRoleBinding",
        Metadata = Metadata(role, []),
        RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = role },
        Subjects = subjects,
    };
}
