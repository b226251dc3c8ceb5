using System.Globalization;

namespace Switchboard.Kube.Metrics;

/// <summary>
/// The labels of one series, sorted by name, with their values as given (for equality) and as text (for output).
/// Compared with a measurement's tags without allocating (see <see cref="LabelSetComparer"/>), in any tag order.
/// </summary>
internal sealed class LabelSet
{
    private LabelSet(string[] names, object?[] values)
    {
        Names = names;
        Values = values;
        Text = Render(names, values);
    }

    public string[] Names { get; }

    public object?[] Values { get; }

    /// <summary>The labels in exposition syntax, <c>a="x",b="y"</c> (empty for no labels), for sorting and output.</summary>
    public string Text { get; }

    public static LabelSet From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        KeyValuePair<string, object?>[] sorted = tags.ToArray();
        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new LabelSet([.. sorted.Select(t => t.Key)], [.. sorted.Select(t => t.Value)]);
    }

    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != Names.Length)
        {
            return false;
        }

        foreach (KeyValuePair<string, object?> tag in tags)
        {
            int index = Array.IndexOf(Names, tag.Key);
            if (index < 0 || !Equals(Values[index], tag.Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Independent of the tags' order, as <see cref="Matches"/> is.</summary>
    public static int Hash(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        int hash = tags.Length;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            hash += HashCode.Combine(tag.Key, tag.Value);
        }

        return hash;
    }

    private static string Render(string[] names, object?[] values)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < names.Length; i++)
        {
            text.Append(i == 0 ? string.Empty : ",").Append(names[i]).Append("=\"");
            PrometheusText.AppendLabelValue(text, Convert.ToString(values[i], CultureInfo.InvariantCulture) ?? string.Empty);
            text.Append('"');
        }

        return text.ToString();
    }
}
