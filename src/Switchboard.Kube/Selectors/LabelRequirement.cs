using System.Globalization;

namespace Switchboard.Kube.Selectors;

/// <summary>One term of a label selector: a key, an operator and the values it compares with.</summary>
internal sealed record LabelRequirement(string Key, LabelOperator Operator, string[] Values)
{
    public bool Matches(IDictionary<string, string>? labels) => Holds(Operator, Key, Values, labels);

    /// <summary>
    /// apimachinery's Requirement.Matches: = and in need the key with one of the values, != and notin hold without the
    /// key, &gt; and &lt; compare the label as an integer with their one integer value (anything else fails them).
    /// </summary>
    public static bool Holds(LabelOperator op, string key, ICollection<string> values, IDictionary<string, string>? labels)
    {
        string? actual = null;
        bool has = labels is not null && labels.TryGetValue(key, out actual);
        return op switch
        {
            LabelOperator.Equals or LabelOperator.In => has && values.Contains(actual!),
            LabelOperator.NotEquals or LabelOperator.NotIn => !has || !values.Contains(actual!),
            LabelOperator.Exists => has,
            LabelOperator.DoesNotExist => !has,
            LabelOperator.GreaterThan => has && Compare(actual!, values) > 0,
            LabelOperator.LessThan => has && Compare(actual!, values) < 0,
            _ => false,
        };
    }

    public static bool TryInteger(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>The label compared with the single integer value; null when either is not an integer.</summary>
    private static int? Compare(string label, ICollection<string> values) =>
        values.Count == 1 && TryInteger(label, out long have) && TryInteger(values.First(), out long bound) ? have.CompareTo(bound) : null;
}
