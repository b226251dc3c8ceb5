using k8s.Models;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Validation;

/// <summary>
/// apimachinery's ValidateLabelSelector for selectors in object specs (PodDisruptionBudget, NetworkPolicy): operators
/// and their values, label keys and values, with its messages under the selector's field path.
/// </summary>
internal static class LabelSelectorRules
{
    private const string NameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    private const string ValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    public static IEnumerable<FieldError> Validate(V1LabelSelector? selector, string path)
    {
        if (selector is null)
        {
            yield break;
        }

        int i = 0;
        foreach (var requirement in selector.MatchExpressions ?? [])
        {
            string at = $"{path}.matchExpressions[{i++}]";
            int values = requirement.Values?.Count ?? 0;
            switch (requirement.OperatorProperty)
            {
                case "In" or "NotIn" when values == 0:
                    yield return FieldError.Required(at + ".values", "must be specified when `operator` is 'In' or 'NotIn'");
                    break;
                case "Exists" or "DoesNotExist" when values > 0:
                    yield return FieldError.Forbidden(at + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
                    break;
                case "In" or "NotIn" or "Exists" or "DoesNotExist":
                    break;
                default:
                    yield return FieldError.Invalid(at + ".operator", requirement.OperatorProperty, "not a valid selector operator");
                    break;
            }

            if (!NameValidation.IsQualifiedName(requirement.Key ?? ""))
            {
                yield return FieldError.Invalid(at + ".key", requirement.Key, NameMessage);
            }

            int v = 0;
            foreach (string value in requirement.Values ?? [])
            {
                if (!NameValidation.IsLabelValue(value))
                {
                    yield return FieldError.Invalid($"{at}.values[{v}]", value, ValueMessage);
                }

                v++;
            }
        }

        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!NameValidation.IsQualifiedName(key))
            {
                yield return FieldError.Invalid(path + ".matchLabels", key, NameMessage);
            }

            if (!NameValidation.IsLabelValue(value))
            {
                yield return FieldError.Invalid(path + ".matchLabels", value, ValueMessage);
            }
        }
    }
}
