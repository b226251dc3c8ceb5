using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchboard.ApiServer.Apply;

/// <summary>
/// One path of a field set, as structured-merge-diff spells its elements in FieldsV1: <c>f:name</c> (a field or map
/// key), <c>k:{"name":"nginx"}</c> (an item of a list keyed by fields, its key fields in compact JSON sorted by name),
/// <c>v:"value"</c> (an item of a set) and <c>i:3</c> (an index). Elements are kept spelled so that the set serializes
/// straight back to FieldsV1.
/// </summary>
internal readonly record struct FieldPath(string[] Elements)
{
    public static readonly FieldPath Root = new([]);

    public FieldPath Child(string element) => new([.. Elements, element]);

    public bool Equals(FieldPath other) => Elements.AsSpan().SequenceEqual(other.Elements);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (string element in Elements)
        {
            hash.Add(element);
        }

        return hash.ToHashCode();
    }

    public static string Field(string name) => "f:" + name;

    public static string Value(JsonNode? value) => "v:" + (value?.ToJsonString() ?? "null");

    /// <summary>The key element of a list item: its key fields, sorted by name, a missing one taking its schema default.</summary>
    public static string Key(JsonObject item, IReadOnlyList<string> keys)
    {
        var key = new JsonObject();
        foreach (string name in keys.Order(StringComparer.Ordinal))
        {
            key[name] = item[name]?.DeepClone() ?? Default(name);
        }

        return "k:" + key.ToJsonString();
    }

    /// <summary>
    /// The path as kube-apiserver prints it in a conflict: <c>.spec.template.spec.containers[name="nginx"].image</c>,
    /// <c>[containerPort=80,protocol="TCP"]</c>, <c>[="v"]</c>, <c>[3]</c>.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (string element in Elements)
        {
            string body = element[2..];
            switch (element[0])
            {
                case 'f':
                    text.Append('.').Append(body);
                    break;
                case 'k':
                    var key = (JsonObject)JsonNode.Parse(body)!;
                    text.Append('[').Append(string.Join(',', key.Select(p => $"{p.Key}={p.Value?.ToJsonString()}"))).Append(']');
                    break;
                case 'v':
                    text.Append("[=").Append(body).Append(']');
                    break;
                default:
                    text.Append('[').Append(body).Append(']');
                    break;
            }
        }

        return text.ToString();
    }

    /// <summary>The schema default of a list-map key that an item may leave out (a port's protocol).</summary>
    private static JsonNode? Default(string key) => key == "protocol" ? JsonValue.Create("TCP") : null;

    /// <summary>Orders elements as structured-merge-diff serializes them: f, k, v, i, then by their bytes.</summary>
    public static int Compare(string a, string b)
    {
        int rank = Rank(a[0]).CompareTo(Rank(b[0]));
        return rank != 0 ? rank : string.CompareOrdinal(a, b);
    }

    private static int Rank(char prefix) => prefix switch
    {
        'f' => 0,
        'k' => 1,
        'v' => 2,
        _ => 3,
    };

    public static int Index(string element) => int.Parse(element.AsSpan(2), CultureInfo.InvariantCulture);
}
