using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// What the four rbac.authorization.k8s.io/v1 kinds share, as upstream's rbac validation: rules need verbs and either
/// groups with resources or (cluster-wide only) non-resource URLs; a binding names a role of the rbac group and
/// subjects of a known kind, and cannot change its roleRef.
/// </summary>
internal static class RbacRules
{
    public const string Group = "rbac.authorization.k8s.io";

    public static IEnumerable<FieldError> ValidateRules(IList<V1PolicyRule>? rules, bool clusterWide)
    {
        int i = 0;
        foreach (var rule in rules ?? [])
        {
            string field = $"rules[{i++}]";
            if (rule.Verbs is not { Count: > 0 })
            {
                yield return FieldError.Required(field + ".verbs", "verbs must contain at least one value");
            }

            bool urls = rule.NonResourceURLs is { Count: > 0 };
            if (urls && !clusterWide)
            {
                yield return FieldError.Invalid(field + ".nonResourceURLs", rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs");
                continue;
            }

            if (urls)
            {
                if (rule.ApiGroups is { Count: > 0 } || rule.Resources is { Count: > 0 })
                {
                    yield return FieldError.Invalid(field + ".nonResourceURLs", rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs");
                }

                continue;
            }

            if (rule.ApiGroups is not { Count: > 0 })
            {
                yield return FieldError.Required(field + ".apiGroups", "resource rules must supply at least one api group");
            }

            if (rule.Resources is not { Count: > 0 })
            {
                yield return FieldError.Required(field + ".resources", "resource rules must supply at least one resource");
            }
        }
    }

    public static IEnumerable<FieldError> ValidateBinding(V1RoleRef? roleRef, IList<Rbacv1Subject>? subjects, bool clusterWide)
    {
        if (roleRef is null)
        {
            yield return FieldError.Required("roleRef");
            yield break;
        }

        if (roleRef.ApiGroup != Group)
        {
            yield return FieldError.NotSupported("roleRef.apiGroup", roleRef.ApiGroup, Group);
        }

        string[] kinds = clusterWide ? ["ClusterRole"] : ["ClusterRole", "Role"];
        if (!kinds.Contains(roleRef.Kind))
        {
            yield return FieldError.NotSupported("roleRef.kind", roleRef.Kind, kinds);
        }

        if (string.IsNullOrEmpty(roleRef.Name))
        {
            yield return FieldError.Required("roleRef.name");
        }

        int i = 0;
        foreach (var subject in subjects ?? [])
        {
            string field = $"subjects[{i++}]";
            if (string.IsNullOrEmpty(subject.Name))
            {
                yield return FieldError.Required(field + ".name");
            }

            switch (subject.Kind)
            {
                case "ServiceAccount":
                    if (!string.IsNullOrEmpty(subject.ApiGroup))
                    {
                        yield return FieldError.NotSupported(field + ".apiGroup", subject.ApiGroup, "");
                    }

                    if (clusterWide && string.IsNullOrEmpty(subject.NamespaceProperty))
                    {
                        yield return FieldError.Required(field + ".namespace");
                    }

                    break;
                case "User" or "Group":
                    if (subject.ApiGroup != Group)
                    {
                        yield return FieldError.NotSupported(field + ".apiGroup", subject.ApiGroup, Group);
                    }

                    break;
                default:
                    yield return FieldError.NotSupported(field + ".kind", subject.Kind, "ServiceAccount", "User", "Group");
                    break;
            }
        }
    }

    public static IEnumerable<FieldError> ValidateRoleRefUnchanged(V1RoleRef? roleRef, V1RoleRef? old)
    {
        if (roleRef?.ApiGroup != old?.ApiGroup || roleRef?.Kind != old?.Kind || roleRef?.Name != old?.Name)
        {
            yield return FieldError.Invalid("roleRef", roleRef, "cannot change roleRef");
        }
    }

    /// <summary>kubectl's columns of a binding: NAME, ROLE, AGE (and who it binds with -o wide).</summary>
    public static IReadOnlyList<TableColumn<T>> BindingColumns<T>(Func<T, V1RoleRef?> roleRef, Func<T, IList<Rbacv1Subject>?> subjects)
        where T : k8s.IKubernetesObject<V1ObjectMeta> =>
    [
        Columns.Name<T>(),
        new("Role", "string", 0, (b, _) => roleRef(b) is { } r ? r.Kind + "/" + r.Name : "", "", "Role of the binding"),
        Columns.Age<T>(),
        new("Users", "string", 1, (b, _) => Names(subjects(b), "User"), "", "Users in the binding"),
        new("Groups", "string", 1, (b, _) => Names(subjects(b), "Group"), "", "Groups in the binding"),
        new("ServiceAccounts", "string", 1, (b, _) => string.Join(", ", (subjects(b) ?? []).Where(s => s.Kind == "ServiceAccount").Select(s => s.NamespaceProperty + "/" + s.Name)), "", "ServiceAccounts in the binding"),
    ];

    /// <summary>kubectl's columns of a role: NAME, CREATED AT.</summary>
    public static IReadOnlyList<TableColumn<T>> RoleColumns<T>()
        where T : k8s.IKubernetesObject<V1ObjectMeta> =>
    [
        Columns.Name<T>(),
        new("Created At", "date", 0, (r, _) => r.Metadata.CreationTimestamp?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), "", "Time when this role was created"),
    ];

    private static string Names(IList<Rbacv1Subject>? subjects, string kind) =>
        string.Join(", ", (subjects ?? []).Where(s => s.Kind == kind).Select(s => s.Name));
}
