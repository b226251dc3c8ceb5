using k8s.Models;

namespace Switchboard.Controllers.Shared;

/// <summary>Evaluates a metav1 LabelSelector (matchLabels and matchExpressions) against labels.</summary>
internal static class LabelSelectors
{
    /// <summary>Whether <paramref name="selector"/> selects <paramref name="labels"/>; an empty or absent selector selects nothing.</summary>
    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        if (selector is null || ((selector.MatchLabels?.Count ?? 0) == 0 && (selector.MatchExpressions?.Count ?? 0) == 0))
        {
            return false;
        }

        labels ??= new Dictionary<string, string>();
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out string? actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var expression in selector.MatchExpressions ?? [])
        {
            bool has = labels.TryGetValue(expression.Key, out string? actual);
            var values = expression.Values ?? [];
            bool ok = expression.OperatorProperty switch
            {
                "In" => has && values.Contains(actual!),
                "NotIn" => !has || !values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
