using k8s.Models;

namespace Switchboard.Controllers.Shared;

/// <summary>Evaluates a metav1 LabelSelector (matchLabels and matchExpressions) against labels; compares and indexes labels.</summary>
internal static class LabelSelectors
{
    /// <summary>The value under which an object with label <paramref name="key"/>=<paramref name="value"/> is indexed.</summary>
    public static string IndexValue(string key, string value) => key + "=" + value;

    /// <summary>Index values of every label of an object.</summary>
    public static IEnumerable<string> IndexValues(IDictionary<string, string>? labels) =>
        labels?.Select(l => IndexValue(l.Key, l.Value)) ?? [];

    /// <summary>Equal label sets; absent and empty are the same.</summary>
    public static bool SameLabels(IDictionary<string, string>? a, IDictionary<string, string>? b)
    {
        if ((a?.Count ?? 0) != (b?.Count ?? 0))
        {
            return false;
        }

        return a is null || a.All(l => b!.TryGetValue(l.Key, out string? v) && v == l.Value);
    }

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
