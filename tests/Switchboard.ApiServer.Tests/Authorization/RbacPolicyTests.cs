using k8s.Models;
using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Authorization;

namespace Switchboard.ApiServer.Tests.Authorization;

/// <summary>The RBAC rule matching and binding scopes of upstream's authorizer, on policies built here.</summary>
public sealed class RbacPolicyTests
{
    private static readonly UserInfo Alice = UserInfo.Create("alice", "", ["devs"]);

    [Fact]
    public void Subresources_match_exactly_or_by_star_slash_and_never_through_the_parent()
    {
        var authorizer = AuthorizerWith(Role("r", Rule(["get"], [""], ["pods", "*/status"])));

        Assert.True(Allowed(authorizer, "get", "pods", null, "dev"));
        Assert.False(Allowed(authorizer, "get", "pods", "log", "dev"));
        Assert.True(Allowed(authorizer, "get", "pods", "status", "dev"));
        Assert.True(Allowed(authorizer, "get", "deployments", "status", "dev", group: ""));
        Assert.False(Allowed(authorizer, "get", "deployments", null, "dev", group: "apps"));
    }

    [Fact]
    public void Resource_names_limit_a_rule_to_those_objects()
    {
        var authorizer = AuthorizerWith(Role("r", new V1PolicyRule { Verbs = ["get", "update"], ApiGroups = [""], Resources = ["configmaps"], ResourceNames = ["settings"] }));

        Assert.True(Allowed(authorizer, "update", "configmaps", null, "dev", name: "settings"));
        Assert.False(Allowed(authorizer, "update", "configmaps", null, "dev", name: "other"));
        Assert.False(Allowed(authorizer, "list", "configmaps", null, "dev"));
    }

    [Fact]
    public void A_rolebinding_grants_its_clusterrole_in_its_namespace_only()
    {
        var authorizer = AuthorizerWith(Role("r", Rule(["list"], [""], ["pods"])));

        Assert.True(Allowed(authorizer, "list", "pods", null, "dev"));
        Assert.False(Allowed(authorizer, "list", "pods", null, "prod"));
        Assert.False(Allowed(authorizer, "list", "pods", null, null));
    }

    [Fact]
    public void Non_resource_urls_match_exactly_or_by_a_trailing_star()
    {
        var role = Role("urls", new V1PolicyRule { Verbs = ["get"], NonResourceURLs = ["/healthz", "/logs/*"] });
        var policy = new RbacPolicy([role], [], [new V1ClusterRoleBinding
        {
            Metadata = new V1ObjectMeta { Name = "urls" },
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = "urls" },
            Subjects = [new Rbacv1Subject { Kind = "Group", ApiGroup = "rbac.authorization.k8s.io", Name = "devs" }],
        }], []);
        var rules = policy.RulesFor(Alice, "");

        Assert.Contains(rules.Rules, r => r.Allows(RequestAttributes.ForPath(Alice, "get", "/healthz")));
        Assert.Contains(rules.Rules, r => r.Allows(RequestAttributes.ForPath(Alice, "get", "/logs/kube.log")));
        Assert.DoesNotContain(rules.Rules, r => r.Allows(RequestAttributes.ForPath(Alice, "get", "/healthz/etcd")));
        Assert.DoesNotContain(rules.Rules, r => r.Allows(RequestAttributes.ForPath(Alice, "post", "/healthz")));
        Assert.Equal(
            "RBAC: allowed by ClusterRoleBinding \"urls\" of ClusterRole \"urls\" to Group \"devs\"",
            new RequestAuthorizer(() => policy).Authorize(RequestAttributes.ForPath(Alice, "get", "/healthz")).Reason);
    }

    [Fact]
    public void A_binding_to_a_missing_role_is_the_reason_of_the_refusal()
    {
        var policy = new RbacPolicy([], [], [], [Binding("dev", "gone")]);
        var decision = new RequestAuthorizer(() => policy).Authorize(RequestAttributes.ForResource(Alice, "get", "", "pods", null, "dev", null));

        Assert.False(decision.Allowed);
        Assert.Equal("RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found", decision.Reason);
        Assert.Equal(
            "pods is forbidden: User \"alice\" cannot get resource \"pods\" in API group \"\" in the namespace \"dev\": RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found",
            RequestAuthorizer.Forbidden(RequestAttributes.ForResource(Alice, "get", "", "pods", null, "dev", null), decision.Reason).Message);
    }

    [Fact]
    public void System_masters_need_no_binding()
    {
        var decision = new RequestAuthorizer(() => RbacPolicy.Empty).Authorize(RequestAttributes.ForResource(UserInfo.Admin, "delete", "", "nodes", null, null, "n1"));
        Assert.True(decision.Allowed);
    }

    private static RequestAuthorizer AuthorizerWith(V1ClusterRole role)
    {
        var policy = new RbacPolicy([role], [], [], [Binding("dev", role.Metadata.Name)]);
        return new RequestAuthorizer(() => policy);
    }

    private static bool Allowed(RequestAuthorizer authorizer, string verb, string resource, string? subresource, string? ns, string group = "", string? name = null) =>
        authorizer.Authorize(RequestAttributes.ForResource(Alice, verb, group, resource, subresource, ns, name)).Allowed;

    private static V1ClusterRole Role(string name, params V1PolicyRule[] rules) => new() { Metadata = new V1ObjectMeta { Name = name }, Rules = rules };

    private static V1PolicyRule Rule(string[] verbs, string[] groups, string[] resources) => new() { Verbs = verbs, ApiGroups = groups, Resources = resources };

    private static V1RoleBinding Binding(string ns, string role) => new()
    {
        Metadata = new V1ObjectMeta { Name = "alice-" + role, NamespaceProperty = ns },
        RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = role },
        Subjects = [new Rbacv1Subject { Kind = "User", ApiGroup = "rbac.authorization.k8s.io", Name = "alice" }],
    };
}
