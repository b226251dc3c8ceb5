using k8s.Models;

namespace Switchboard.Kube.Selectors;

/// <summary>
/// A label selector as apimachinery's labels.Selector: parsed from the query-string form (<see cref="Parse"/>), or
/// evaluated straight from a metav1 LabelSelector's matchLabels and matchExpressions without building one.
/// </summary>
public sealed class LabelSelector
{
    private readonly IReadOnlyList<LabelRequirement> _requirements;

    private LabelSelector(IReadOnlyList<LabelRequirement> requirements) => _requirements = requirements;

    /// <summary>Selects every set of labels (labels.Everything).</summary>
    public static LabelSelector Everything { get; } = new([]);

    public bool IsEmpty => _requirements.Count == 0;

    /// <summary>Each requirement's key and the values it compares with, for a server to validate as labels.Parse does.</summary>
    public IEnumerable<(string Key, IReadOnlyList<string> Values)> Terms => _requirements.Select(r => (r.Key, (IReadOnlyList<string>)r.Values));

    /// <summary>labels.Parse: a blank selector is <see cref="Everything"/>; a malformed one throws a <see cref="FormatException"/> with upstream's message.</summary>
    public static LabelSelector Parse(string? text) =>
        string.IsNullOrWhiteSpace(text) ? Everything : new LabelSelector(LabelSelectorParser.Parse(text));

    /// <summary>Whether every requirement holds for <paramref name="labels"/> (absent labels are none).</summary>
    public bool Matches(IDictionary<string, string>? labels)
    {
        foreach (var requirement in _requirements)
        {
            if (!requirement.Matches(labels))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// metav1.LabelSelectorAsSelector(selector).Matches(labels): a null selector selects nothing, an empty one
    /// everything, and one with an operator other than In, NotIn, Exists or DoesNotExist (invalid) nothing.
    /// </summary>
    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        if (selector is null || !MatchesSet(selector.MatchLabels, labels))
        {
            return false;
        }

        foreach (var expression in selector.MatchExpressions ?? [])
        {
            if (expression.OperatorProperty is "Gt" or "Lt" || !RequirementMatches(expression.OperatorProperty, expression.Key, expression.Values, labels))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// One requirement in the form of the API's selector terms (a LabelSelectorRequirement, or a node selector term's
    /// NodeSelectorRequirement): In, NotIn, Exists, DoesNotExist, Gt, Lt; any other operator fails.
    /// </summary>
    public static bool RequirementMatches(string? op, string key, IList<string>? values, IDictionary<string, string>? labels) =>
        ExpressionOperator(op) is { } known && LabelRequirement.Holds(known, key, values ?? [], labels);

    /// <summary>labels.SelectorFromSet(set).Matches(labels): every pair is among the labels; an empty set selects everything.</summary>
    public static bool MatchesSet(IDictionary<string, string>? set, IDictionary<string, string>? labels)
    {
        if (set is null)
        {
            return true;
        }

        foreach (var (key, value) in set)
        {
            if (labels is null || !labels.TryGetValue(key, out string? actual) || actual != value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// As the workload controllers read their selector: a null or empty one selects nothing rather than everything
    /// ("if a deployment with a nil or empty selector creeps in, it should match nothing").
    /// </summary>
    public static bool MatchesNonEmpty(V1LabelSelector? selector, IDictionary<string, string>? labels) =>
        (selector?.MatchLabels?.Count ?? 0) + (selector?.MatchExpressions?.Count ?? 0) > 0 && Matches(selector, labels);

    /// <summary>
    /// A Service's selector (labels.Set(selector).AsSelector().Matches): every pair must be among the labels; an empty
    /// one selects nothing, as a Service without a selector gets no endpoints.
    /// </summary>
    public static bool MatchesNonEmpty(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && MatchesSet(selector, labels);

    private static LabelOperator? ExpressionOperator(string? op) => op switch
    {
        "In" => LabelOperator.In,
        "NotIn" => LabelOperator.NotIn,
        "Exists" => LabelOperator.Exists,
        "DoesNotExist" => LabelOperator.DoesNotExist,
        "Gt" => LabelOperator.GreaterThan,
        "Lt" => LabelOperator.LessThan,
        _ => null,
    };
}
