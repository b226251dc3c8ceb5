using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Selectors;

/// <summary>A parsed field selector: <c>f=v</c>, <c>f==v</c>, <c>f!=v</c>, comma means AND.</summary>
internal sealed class FieldSelector
{
    private readonly IReadOnlyList<(string Field, bool Equal, string Value)> _terms;

    private FieldSelector(IReadOnlyList<(string Field, bool Equal, string Value)> terms) => _terms = terms;

    public static FieldSelector Everything { get; } = new([]);

    public bool IsEmpty => _terms.Count == 0;

    public IEnumerable<string> Fields => _terms.Select(t => t.Field);

    public static FieldSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var terms = new List<(string, bool, string)>();
        foreach (string raw in text.Split(','))
        {
            string term = raw.Trim();
            int at = term.IndexOf("!=", StringComparison.Ordinal);
            if (at > 0)
            {
                terms.Add((term[..at].Trim(), false, Unescape(term[(at + 2)..].Trim())));
                continue;
            }

            at = term.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0)
            {
                throw ApiException.BadRequest($"invalid selector: '{text}'; can't understand '{term}'");
            }

            int valueStart = at + 1 < term.Length && term[at + 1] == '=' ? at + 2 : at + 1;
            terms.Add((term[..at].Trim(), true, Unescape(term[valueStart..].Trim())));
        }

        return new FieldSelector(terms);
    }

    /// <summary>Whether the object's fields (looked up by <paramref name="field"/>) satisfy every term.</summary>
    public bool Matches(Func<string, string?> field)
    {
        foreach (var (name, equal, value) in _terms)
        {
            bool same = string.Equals(field(name) ?? "", value, StringComparison.Ordinal);
            if (same != equal)
            {
                return false;
            }
        }

        return true;
    }

    private static string Unescape(string value) =>
        value.Replace("\\,", ",", StringComparison.Ordinal).Replace("\\=", "=", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
}
