using k8s;
using k8s.Models;

namespace Switchboard.ApiServer.Tables;

/// <summary>Columns every kind shares.</summary>
internal static class Columns
{
    public static TableColumn<T> Name<T>()
        where T : IKubernetesObject<V1ObjectMeta> =>
        new("Name", "string", 0, (o, _) => o.Metadata.Name, "name", "Name must be unique within a namespace.");

    public static TableColumn<T> Age<T>()
        where T : IKubernetesObject<V1ObjectMeta> =>
        new("Age", "string", 0, (o, now) => Age(o.Metadata.CreationTimestamp, now), "", "CreationTimestamp is a timestamp representing the server time when this object was created.");

    public static string Age(DateTime? since, DateTimeOffset now) =>
        since is { } t ? HumanDuration.Format(now - new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc))) : "<unknown>";

    public static string OrNone(string? value) => string.IsNullOrEmpty(value) ? "<none>" : value;

    public static string Selector(IDictionary<string, string>? labels) =>
        labels is null || labels.Count == 0 ? "<none>" : string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value));

    public static string Selector(V1LabelSelector? selector)
    {
        if (selector is null)
        {
            return "<none>";
        }

        var terms = new List<string>();
        if (selector.MatchLabels is { } labels)
        {
            terms.AddRange(labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value));
        }

        foreach (var e in selector.MatchExpressions ?? [])
        {
            terms.Add(e.OperatorProperty switch
            {
                "In" => $"{e.Key} in ({string.Join(",", e.Values ?? [])})",
                "NotIn" => $"{e.Key} notin ({string.Join(",", e.Values ?? [])})",
                "Exists" => e.Key,
                "DoesNotExist" => "!" + e.Key,
                _ => e.Key,
            });
        }

        return terms.Count == 0 ? "<none>" : string.Join(",", terms);
    }
}
