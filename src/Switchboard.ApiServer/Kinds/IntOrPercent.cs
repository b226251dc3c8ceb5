using System.Globalization;
using k8s.Models;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Kinds;

/// <summary>apps validation's ValidatePositiveIntOrPercent and IsNotMoreThan100Percent, for budgets given as a count or a percentage.</summary>
internal static class IntOrPercent
{
    public static IEnumerable<FieldError> Validate(IntOrString? value, string path)
    {
        if (value?.Value is not { } text)
        {
            yield break;
        }

        if (text.EndsWith('%'))
        {
            if (!int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int percent))
            {
                yield return FieldError.Invalid(path, text, "must be an integer or percentage (e.g '5%')");
            }
            else if (percent > 100)
            {
                yield return FieldError.Invalid(path, text, "must not be greater than 100%");
            }
        }
        else if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int count))
        {
            yield return FieldError.Invalid(path, text, "must be an integer or percentage (e.g '5%')");
        }
        else if (count < 0)
        {
            yield return FieldError.Invalid(path, count, "must be greater than or equal to 0");
        }
    }
}
