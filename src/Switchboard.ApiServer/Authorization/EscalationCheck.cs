using k8s.Models;
using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// kube-apiserver's RBAC escalation check (registry/rbac escalation_check.go, validation.ConfirmNoEscalation): a user
/// writes a Role or ClusterRole only with the verb <c>escalate</c> on it or when it already holds every rule it grants
/// there, and a binding only with the verb <c>bind</c> on the role it names or when it holds every rule of that role in
/// the binding's namespace. system:masters, and the server's own writes (no user), pass. A refusal is 403.
/// </summary>
internal sealed class EscalationCheck
{
    private const string Group = "rbac.authorization.k8s.io";

    /// <summary>The user of the request being served; none for the server's own writes (bootstrap).</summary>
    public static AsyncLocal<UserInfo?> CurrentUser { get; } = new();

    /// <summary>The authorizer, set once the RBAC cache runs (before any request is served).</summary>
    public RequestAuthorizer? Authorizer { get; set; }

    /// <summary>Refuses a Role (<paramref name="ns"/> its namespace) or ClusterRole (null) granting what its writer does not hold.</summary>
    public void CheckRole(string resource, string? ns, string name, IList<V1PolicyRule>? rules)
    {
        if (CurrentUser.Value is not { IsMaster: false } user || Authorizer is not { } authorizer)
        {
            return;
        }

        if (!authorizer.Authorize(RequestAttributes.ForResource(user, "escalate", Group, resource, null, ns, name)).Allowed)
        {
            Confirm(authorizer, user, resource, ns, name, rules ?? []);
        }
    }

    /// <summary>Refuses a RoleBinding (<paramref name="ns"/> its namespace) or ClusterRoleBinding (null) to a role its writer may not bind.</summary>
    public void CheckBinding(string resource, string? ns, string name, V1RoleRef? roleRef)
    {
        if (CurrentUser.Value is not { IsMaster: false } user || Authorizer is not { } authorizer || roleRef is null)
        {
            return;
        }

        string roleResource = roleRef.Kind == "ClusterRole" ? "clusterroles" : "roles";
        if (authorizer.Authorize(RequestAttributes.ForResource(user, "bind", Group, roleResource, null, ns, roleRef.Name)).Allowed)
        {
            return;
        }

        var policy = authorizer.Policy;
        var rules = roleRef.Kind == "ClusterRole"
            ? policy.ClusterRoles.GetValueOrDefault(roleRef.Name)?.Rules
            : ns is null ? null : policy.RoleRules(ns, roleRef.Name);
        if (rules is null)
        {
            throw ApiException.ForbiddenRequest(Group, resource, name, $"user \"{user.Name}\" cannot bind {roleRef.Kind.ToLowerInvariant()} \"{roleRef.Name}\": it does not exist");
        }

        Confirm(authorizer, user, resource, ns, name, rules);
    }

    private static void Confirm(RequestAuthorizer authorizer, UserInfo user, string resource, string? ns, string name, IList<V1PolicyRule> rules)
    {
        var held = authorizer.Policy.RulesFor(user, ns ?? "").Rules.Select(r => r.Rule).ToList();
        var missing = rules.SelectMany(Atoms).Where(atom => !held.Any(owner => Covers(owner, atom))).ToList();
        if (missing.Count > 0)
        {
            string groups = string.Join(",", user.Groups.Select(g => $"\"{g}\""));
            throw ApiException.ForbiddenRequest(Group, resource, name,
                $"user \"{user.Name}\" (groups=[{groups}]) is attempting to grant RBAC permissions not currently held:\n" + string.Join("\n", missing.Select(Compact)));
        }
    }

    /// <summary>A rule broken into one verb on one group, resource and name (or URL) each, as upstream's BreakdownRule.</summary>
    private static IEnumerable<V1PolicyRule> Atoms(V1PolicyRule rule)
    {
        foreach (string verb in rule.Verbs ?? [])
        {
            foreach (string url in rule.NonResourceURLs ?? [])
            {
                yield return new V1PolicyRule { Verbs = [verb], NonResourceURLs = [url] };
            }

            foreach (string group in rule.ApiGroups ?? [])
            {
                foreach (string resource in rule.Resources ?? [])
                {
                    if (rule.ResourceNames is { Count: > 0 } names)
                    {
                        foreach (string name in names)
                        {
                            yield return new V1PolicyRule { Verbs = [verb], ApiGroups = [group], Resources = [resource], ResourceNames = [name] };
                        }
                    }
                    else
                    {
                        yield return new V1PolicyRule { Verbs = [verb], ApiGroups = [group], Resources = [resource] };
                    }
                }
            }
        }
    }

    /// <summary>Whether <paramref name="owner"/> grants all of the single rule <paramref name="atom"/> (upstream's ruleCovers).</summary>
    private static bool Covers(V1PolicyRule owner, V1PolicyRule atom)
    {
        string verb = atom.Verbs[0];
        if (!(owner.Verbs ?? []).Any(v => v == "*" || v == verb))
        {
            return false;
        }

        if (atom.NonResourceURLs is [var url])
        {
            return (owner.NonResourceURLs ?? []).Any(o => o == "*" || o == url || (o.EndsWith('*') && url.StartsWith(o[..^1], StringComparison.Ordinal)));
        }

        string group = atom.ApiGroups[0];
        string resource = atom.Resources[0];
        int slash = resource.IndexOf('/', StringComparison.Ordinal);
        return (owner.ApiGroups ?? []).Any(g => g == "*" || g == group)
            && (owner.Resources ?? []).Any(r => r == "*" || r == resource || (slash > 0 && r == "*" + resource[slash..]))
            && (owner.ResourceNames is not { Count: > 0 } || (atom.ResourceNames is [var name] && owner.ResourceNames.Contains(name)));
    }

    /// <summary>upstream's CompactString of a rule.</summary>
    private static string Compact(V1PolicyRule rule)
    {
        static string List(IList<string> values) => "[" + string.Join(" ", values.Select(v => $"\"{v}\"")) + "]";
        var parts = new List<string>();
        if (rule.ApiGroups is { Count: > 0 } groups)
        {
            parts.Add("APIGroups:" + List(groups));
        }

        if (rule.Resources is { Count: > 0 } resources)
        {
            parts.Add("Resources:" + List(resources));
        }

        if (rule.ResourceNames is { Count: > 0 } names)
        {
            parts.Add("ResourceNames:" + List(names));
        }

        if (rule.NonResourceURLs is { Count: > 0 } urls)
        {
            parts.Add("NonResourceURLs:" + List(urls));
        }

        parts.Add("Verbs:" + List(rule.Verbs));
        return "{" + string.Join(", ", parts) + "}";
    }
}
