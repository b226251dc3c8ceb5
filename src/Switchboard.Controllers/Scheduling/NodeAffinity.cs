using k8s.Models;
using Switchboard.Kube.Selectors;

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
        if (!LabelSelector.MatchesSet(pod.Spec?.NodeSelector, labels))
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
        return expressions.All(e => LabelSelector.RequirementMatches(e.OperatorProperty, e.Key, e.Values, labels))
            && fields.All(f => f.Key == "metadata.name" && f.OperatorProperty is "In" or "NotIn" && LabelSelector.RequirementMatches(f.OperatorProperty, f.Key, f.Values, nodeFields));
    }
}
