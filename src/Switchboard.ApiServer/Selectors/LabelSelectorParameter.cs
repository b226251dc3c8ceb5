using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Validation;
using Switchboard.Kube.Selectors;

namespace Switchboard.ApiServer.Selectors;

/// <summary>The labelSelector query parameter of a list, watch or deletecollection.</summary>
internal static class LabelSelectorParameter
{
    /// <summary>How much of an invalid key or value a message repeats.</summary>
    private const int Quoted = 80;

    /// <summary>
    /// The parsed selector; a malformed one is the 400 kube-apiserver answers, with the parser's message, and so is one
    /// whose keys or values could never be labels (labels.Parse validates them: a 30 KB value is refused, not matched).
    /// </summary>
    public static LabelSelector Parse(string? text)
    {
        LabelSelector selector;
        try
        {
            selector = LabelSelector.Parse(text);
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest(e.Message);
        }

        foreach (var (key, values) in selector.Terms)
        {
            if (!NameValidation.IsQualifiedName(key))
            {
                throw Invalid("key", key, key.Length > 63 ? "name part must be no more than 63 characters" : "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
            }

            for (int i = 0; i < values.Count; i++)
            {
                if (!NameValidation.IsLabelValue(values[i]))
                {
                    throw Invalid($"values[{i}][{key}]", values[i], values[i].Length > 63 ? "must be no more than 63 characters" : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
                }
            }
        }

        return selector;
    }

    private static ApiException Invalid(string field, string value, string why) =>
        ApiException.BadRequest($"unable to parse requirement: {field}: Invalid value: \"{(value.Length > Quoted ? value[..Quoted] + "..." : value)}\": {why}");
}
