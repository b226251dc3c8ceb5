using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Kinds;

/// <summary>The keys of ConfigMaps and Secrets become file names in volumes, so both are held to apimachinery's IsConfigMapKey.</summary>
internal static class ConfigKeys
{
    private const string Message = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

    public static IEnumerable<FieldError> Validate(string field, IEnumerable<string> keys) =>
        keys.Where(key => !IsValid(key)).Select(key => FieldError.Invalid($"{field}[{key}]", key, Message));

    /// <summary>An object marked immutable keeps its data and stays immutable (ValidateConfigMapUpdate, ValidateSecretUpdate).</summary>
    public static IEnumerable<FieldError> ValidateImmutable(bool? oldImmutable, bool? newImmutable, bool dataChanged)
    {
        if (oldImmutable != true)
        {
            yield break;
        }

        if (newImmutable != true)
        {
            yield return FieldError.Forbidden("immutable", "field is immutable when `immutable` is set");
        }

        if (dataChanged)
        {
            yield return FieldError.Forbidden("data", "field is immutable when `immutable` is set");
        }
    }

    private static bool IsValid(string key) =>
        key.Length is > 0 and <= 253 && key is not ("." or "..") && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
