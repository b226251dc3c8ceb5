using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Selectors;

/// <summary>
/// A parsed label selector in the query-string grammar of apimachinery's labels.Parse:
/// <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>, <c>k</c>, <c>!k</c>; comma means AND.
/// </summary>
internal sealed class LabelSelector
{
    private readonly IReadOnlyList<Requirement> _requirements;

    private LabelSelector(IReadOnlyList<Requirement> requirements) => _requirements = requirements;

    public static LabelSelector Everything { get; } = new([]);

    public bool IsEmpty => _requirements.Count == 0;

    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var requirements = new List<Requirement>();
        foreach (string term in SplitTerms(text))
        {
            requirements.Add(ParseTerm(term.Trim(), text));
        }

        return new LabelSelector(requirements);
    }

    /// <summary>A selector matching exactly these labels (a Service or Deployment selector).</summary>
    public static LabelSelector FromMatchLabels(IDictionary<string, string>? labels) =>
        labels is null || labels.Count == 0
            ? Everything
            : new LabelSelector([.. labels.Select(l => new Requirement(l.Key, Operator.Equals, [l.Value]))]);

    public bool Matches(IDictionary<string, string>? labels)
    {
        foreach (var requirement in _requirements)
        {
            string? value = null;
            bool has = labels is not null && labels.TryGetValue(requirement.Key, out value);
            bool ok = requirement.Operator switch
            {
                Operator.Equals or Operator.In => has && requirement.Values.Contains(value),
                Operator.NotEquals or Operator.NotIn => !has || !requirement.Values.Contains(value),
                Operator.Exists => has,
                Operator.DoesNotExist => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<string> SplitTerms(string text)
    {
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }

    private static Requirement ParseTerm(string term, string selector)
    {
        if (term.Length == 0)
        {
            throw Bad(selector, "empty requirement");
        }

        if (term[0] == '!')
        {
            return new Requirement(ValidKey(term[1..].Trim(), selector), Operator.DoesNotExist, []);
        }

        foreach (var (token, op) in new[] { ("!=", Operator.NotEquals), ("==", Operator.Equals), ("=", Operator.Equals) })
        {
            int at = term.IndexOf(token, StringComparison.Ordinal);
            if (at > 0)
            {
                return new Requirement(ValidKey(term[..at].Trim(), selector), op, [term[(at + token.Length)..].Trim()]);
            }
        }

        foreach (var (word, op) in new[] { (" notin ", Operator.NotIn), (" in ", Operator.In) })
        {
            int at = term.IndexOf(word, StringComparison.Ordinal);
            if (at > 0)
            {
                string set = term[(at + word.Length)..].Trim();
                if (set.Length < 2 || set[0] != '(' || set[^1] != ')')
                {
                    throw Bad(selector, $"expected a parenthesised set after '{word.Trim()}'");
                }

                string[] values = [.. set[1..^1].Split(',').Select(v => v.Trim())];
                return new Requirement(ValidKey(term[..at].Trim(), selector), op, values);
            }
        }

        return new Requirement(ValidKey(term, selector), Operator.Exists, []);
    }

    private static string ValidKey(string key, string selector)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '=' or '!' or ','))
        {
            throw Bad(selector, $"invalid label key \"{key}\"");
        }

        return key;
    }

    private static ApiException Bad(string selector, string why) =>
        ApiException.BadRequest($"unable to parse requirement: {why} in label selector \"{selector}\"");

    private enum Operator
    {
        Equals,
        NotEquals,
        In,
        NotIn,
        Exists,
        DoesNotExist,
    }

    private sealed record Requirement(string Key, Operator Operator, string[] Values);
}
