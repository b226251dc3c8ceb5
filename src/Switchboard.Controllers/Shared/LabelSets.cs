namespace Switchboard.Controllers.Shared;

/// <summary>Label maps as the informer indexes key them, and compared (selector matching is Switchboard.Kube's LabelSelector).</summary>
internal static class LabelSets
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
}
