using System.Collections.Concurrent;
using k8s.Models;
using Switchboard.ApiServer.Authentication;

namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// One immutable view of the RBAC objects, indexed for the authorizer: bindings by subject (<c>User:NAME</c>,
/// <c>Group:NAME</c>, <c>ServiceAccount:NS:NAME</c>), and the rules a user has in a namespace compiled once and kept
/// until the next view replaces this one (any change of a Role, ClusterRole or binding). The rules granted are
/// upstream's: every ClusterRoleBinding, plus the RoleBindings of the request's namespace (a RoleBinding to a
/// ClusterRole grants it there only).
/// </summary>
internal sealed class RbacPolicy
{
    private const int MaxCompiled = 10_000;

    private readonly Dictionary<string, V1ClusterRole> _clusterRoles;
    private readonly Dictionary<(string Namespace, string Name), V1Role> _roles;
    private readonly Dictionary<string, List<(V1ClusterRoleBinding Binding, Rbacv1Subject Subject)>> _clusterBindings = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Subject), List<(V1RoleBinding Binding, Rbacv1Subject Subject)>> _bindings = [];
    private readonly ConcurrentDictionary<(string User, string Namespace), UserRules> _compiled = new();

    public RbacPolicy(IEnumerable<V1ClusterRole> clusterRoles, IEnumerable<V1Role> roles, IEnumerable<V1ClusterRoleBinding> clusterBindings, IEnumerable<V1RoleBinding> bindings)
    {
        _clusterRoles = clusterRoles.ToDictionary(r => r.Metadata.Name, StringComparer.Ordinal);
        _roles = roles.ToDictionary(r => (r.Metadata.NamespaceProperty, r.Metadata.Name));
        foreach (var binding in clusterBindings)
        {
            foreach (var subject in binding.Subjects ?? [])
            {
                // A service account of a ClusterRoleBinding must name its namespace: there is no binding namespace to default to.
                if (SubjectKey(subject, "") is { } key)
                {
                    Add(_clusterBindings, key, (binding, subject));
                }
            }
        }

        foreach (var binding in bindings)
        {
            foreach (var subject in binding.Subjects ?? [])
            {
                if (SubjectKey(subject, binding.Metadata.NamespaceProperty) is { } key)
                {
                    Add(_bindings, (binding.Metadata.NamespaceProperty, key), (binding, subject));
                }
            }
        }
    }

    public static RbacPolicy Empty { get; } = new([], [], [], []);

    public IReadOnlyDictionary<string, V1ClusterRole> ClusterRoles => _clusterRoles;

    /// <summary>The rules of a Role; null when there is no such Role.</summary>
    public IList<V1PolicyRule>? RoleRules(string ns, string name) => _roles.TryGetValue((ns, name), out var role) ? role.Rules ?? [] : null;

    /// <summary>The rules <paramref name="user"/> holds in <paramref name="ns"/> ("" for cluster scope), compiled once per view.</summary>
    public UserRules RulesFor(UserInfo user, string ns)
    {
        var key = (user.Name + "\n" + string.Join('\n', user.Groups), ns);
        if (_compiled.TryGetValue(key, out var rules))
        {
            return rules;
        }

        // Bounded: many users across many namespaces compile again rather than grow the view without end.
        if (_compiled.Count >= MaxCompiled)
        {
            _compiled.Clear();
        }

        return _compiled.GetOrAdd(key, _ => Compile(user, ns));
    }

    private UserRules Compile(UserInfo user, string ns)
    {
        var rules = new List<CompiledRule>();
        var errors = new List<string>();
        foreach (string key in SubjectKeys(user))
        {
            foreach (var (binding, subject) in _clusterBindings.GetValueOrDefault(key) ?? [])
            {
                string source = $"ClusterRoleBinding \"{binding.Metadata.Name}\" of {binding.RoleRef.Kind} \"{binding.RoleRef.Name}\" to {Describe(subject, "")}";
                AddRules(rules, errors, RoleRules(binding.RoleRef, ""), binding.RoleRef, source);
            }

            if (ns.Length == 0)
            {
                continue;
            }

            foreach (var (binding, subject) in _bindings.GetValueOrDefault((ns, key)) ?? [])
            {
                string source = $"RoleBinding \"{binding.Metadata.Name}/{ns}\" of {binding.RoleRef.Kind} \"{binding.RoleRef.Name}\" to {Describe(subject, ns)}";
                AddRules(rules, errors, RoleRules(binding.RoleRef, ns), binding.RoleRef, source);
            }
        }

        return new UserRules(rules, errors);
    }

    private static void AddRules(List<CompiledRule> rules, List<string> errors, IList<V1PolicyRule>? found, V1RoleRef roleRef, string source)
    {
        if (found is null)
        {
            errors.Add($"{roleRef.Kind.ToLowerInvariant()}.rbac.authorization.k8s.io \"{roleRef.Name}\" not found");
            return;
        }

        rules.AddRange(found.Select(rule => new CompiledRule(rule, source)));
    }

    /// <summary>The rules of a binding's role: a Role of the binding's namespace or a ClusterRole; null when it does not exist.</summary>
    private IList<V1PolicyRule>? RoleRules(V1RoleRef roleRef, string ns) => roleRef.Kind switch
    {
        "ClusterRole" => _clusterRoles.TryGetValue(roleRef.Name, out var clusterRole) ? clusterRole.Rules ?? [] : null,
        "Role" when ns.Length > 0 => _roles.TryGetValue((ns, roleRef.Name), out var role) ? role.Rules ?? [] : null,
        _ => null,
    };

    private static IEnumerable<string> SubjectKeys(UserInfo user)
    {
        yield return "User:" + user.Name;
        foreach (string group in user.Groups)
        {
            yield return "Group:" + group;
        }

        if (UserInfo.ServiceAccountOf(user.Name) is { } account)
        {
            yield return $"ServiceAccount:{account.Namespace}:{account.Name}";
        }
    }

    private static string? SubjectKey(Rbacv1Subject subject, string bindingNamespace) => subject.Kind switch
    {
        "User" => "User:" + subject.Name,
        "Group" => "Group:" + subject.Name,
        "ServiceAccount" when (string.IsNullOrEmpty(subject.NamespaceProperty) ? bindingNamespace : subject.NamespaceProperty) is { Length: > 0 } ns =>
            $"ServiceAccount:{ns}:{subject.Name}",
        _ => null,
    };

    /// <summary>upstream's describeSubject.</summary>
    private static string Describe(Rbacv1Subject subject, string bindingNamespace) => subject.Kind == "ServiceAccount"
        ? $"{subject.Kind} \"{subject.Name}/{(string.IsNullOrEmpty(subject.NamespaceProperty) ? bindingNamespace : subject.NamespaceProperty)}\""
        : $"{subject.Kind} \"{subject.Name}\"";

    private static void Add<TKey, TValue>(Dictionary<TKey, List<TValue>> index, TKey key, TValue value)
        where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list))
        {
            index[key] = list = [];
        }

        list.Add(value);
    }
}

/// <summary>What a user holds in one namespace: the rules, and the roles its bindings name that do not exist.</summary>
internal sealed record UserRules(IReadOnlyList<CompiledRule> Rules, IReadOnlyList<string> Errors);
