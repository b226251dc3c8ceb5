using k8s.Models;
using Switchboard.Kube.Selectors;

namespace Switchboard.Kube.Rbac;

/// <summary>
/// What an aggregated ClusterRole holds (upstream's clusterrole-aggregation controller): the rules of every other
/// ClusterRole its <c>aggregationRule</c> selectors match, in name order, each rule once. Shared by the controller that
/// writes them and the API server's bootstrap policy, which starts admin, edit and view already aggregated.
/// </summary>
public static class ClusterRoleAggregation
{
    public static List<V1PolicyRule> RulesOf(V1ClusterRole role, IEnumerable<V1ClusterRole> all)
    {
        ArgumentNullException.ThrowIfNull(role);
        var selectors = role.AggregationRule?.ClusterRoleSelectors ?? [];
        var rules = new List<V1PolicyRule>();
        foreach (var source in all.Where(r => r.Metadata.Name != role.Metadata.Name).OrderBy(r => r.Metadata.Name, StringComparer.Ordinal))
        {
            if (selectors.Any(selector => LabelSelector.MatchesNonEmpty(selector, source.Metadata.Labels)))
            {
                rules.AddRange((source.Rules ?? []).Where(rule => !rules.Any(r => SameRule(r, rule))));
            }
        }

        return rules;
    }

    /// <summary>Whether the role's rules are already <paramref name="rules"/>, in that order.</summary>
    public static bool HasRules(V1ClusterRole role, IReadOnlyList<V1PolicyRule> rules)
    {
        ArgumentNullException.ThrowIfNull(role);
        return rules.Count == (role.Rules?.Count ?? 0) && rules.Zip(role.Rules ?? []).All(pair => SameRule(pair.First, pair.Second));
    }

    public static bool SameRule(V1PolicyRule a, V1PolicyRule b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Same(a.Verbs, b.Verbs) && Same(a.ApiGroups, b.ApiGroups) && Same(a.Resources, b.Resources) && Same(a.ResourceNames, b.ResourceNames) && Same(a.NonResourceURLs, b.NonResourceURLs);
    }

    private static bool Same(IList<string>? a, IList<string>? b) => (a ?? []).SequenceEqual(b ?? []);
}
