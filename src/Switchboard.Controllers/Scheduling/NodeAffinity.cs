using System.Globalization;
using k8s.Models;

namespace Switchboard.Controllers.Scheduling;

/// <summary>
/// Whether a pod's spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity select a node
/// (upstream's nodeaffinity plugin): every nodeSelector label must match, and at least one node selector term must,
/// a term matching when all its matchExpressions (labels) and matchFields (metadata.name) do; an empty term matches
/// nothing.
/// </summary>
internal static class NodeAffinity
{
    public static bool Matches(V1Pod pod, V1Node node)
    {
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        if (pod.Spec?.NodeSelector is { } selector && !selector.All(l => labels.TryGetValue(l.Key, out string? v) && v == l.Value))
        {
            return false;
        }

        var terms = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        return terms is null || terms.Any(t => TermMatches(t, node, labels));
    }

    private static bool TermMatches(V1NodeSelectorTerm term, V1Node node, IDictionary<string, string> labels)
    {
        var expressions = term.MatchExpressions ?? [];
        var fields = term.MatchFields ?? [];
        if (expressions.Count == 0 && fields.Count == 0)
        {
            return false;
        }

        var nodeFields = new Dictionary<string, string> { ["metadata.name"] = node.Metadata.Name };
        return expressions.All(e => RequirementMatches(e, labels)) && fields.All(f => f.Key == "metadata.name" && f.OperatorProperty is "In" or "NotIn" && RequirementMatches(f, nodeFields));
    }

    private static bool RequirementMatches(V1NodeSelectorRequirement requirement, IDictionary<string, string> values)
    {
        bool has = values.TryGetValue(requirement.Key, out string? value);
        var wanted = requirement.Values ?? [];
        return requirement.OperatorProperty switch
        {
            "In" => has && wanted.Contains(value!),
            "NotIn" => !has || !wanted.Contains(value!),
            "Exists" => has,
            "DoesNotExist" => !has,
            "Gt" => has && Compare(value!, wanted) is > 0,
            "Lt" => has && Compare(value!, wanted) is < 0,
            _ => false,
        };
    }

    /// <summary>The label as an integer compared with the single value of a Gt/Lt requirement; null when either is not one.</summary>
    private static int? Compare(string label, IList<string> wanted) =>
        wanted.Count == 1 && long.TryParse(label, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long have)
            && long.TryParse(wanted[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long bound)
            ? have.CompareTo(bound)
            : null;
}
