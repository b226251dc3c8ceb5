using System.Text.RegularExpressions;

namespace Switchboard.ApiServer.Validation;

/// <summary>The name and label checks of apimachinery's util/validation, with its exact messages.</summary>
internal static partial class NameValidation
{
    public const string Dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    public const string Dns1035LabelMessage = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    public const string Dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    public static IEnumerable<string> Check(NameRule rule, string name) => rule switch
    {
        NameRule.Label => Label(name),
        NameRule.Dns1035Label => Dns1035(name),
        NameRule.Subdomain => Subdomain(name),
        _ => PathSegment(name),
    };

    public static IEnumerable<string> Label(string value)
    {
        if (value.Length > 63)
        {
            yield return "must be no more than 63 characters";
        }

        if (!Dns1123LabelRegex().IsMatch(value))
        {
            yield return Dns1123LabelMessage;
        }
    }

    public static IEnumerable<string> Dns1035(string value)
    {
        if (value.Length > 63)
        {
            yield return "must be no more than 63 characters";
        }

        if (!Dns1035LabelRegex().IsMatch(value))
        {
            yield return Dns1035LabelMessage;
        }
    }

    public static IEnumerable<string> Subdomain(string value)
    {
        if (value.Length > 253)
        {
            yield return "must be no more than 253 characters";
        }

        if (!Dns1123SubdomainRegex().IsMatch(value))
        {
            yield return Dns1123SubdomainMessage;
        }
    }

    /// <summary>Label keys and values (metadata.labels) per apimachinery IsQualifiedName / IsValidLabelValue.</summary>
    public static bool IsQualifiedName(string key)
    {
        int slash = key.IndexOf('/', StringComparison.Ordinal);
        string name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0 && (slash == 0 || slash > 253 || !Dns1123SubdomainRegex().IsMatch(key[..slash])))
        {
            return false;
        }

        return name.Length is > 0 and <= 63 && QualifiedNameRegex().IsMatch(name);
    }

    /// <summary>An IANA_SVC_NAME (a named port), with IsValidPortName's messages.</summary>
    public static IEnumerable<string> PortName(string value)
    {
        if (value.Length > 15)
        {
            yield return "must be no more than 15 characters";
        }

        if (!PortNameCharsetRegex().IsMatch(value))
        {
            yield return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        }

        if (!value.Any(c => c is >= 'a' and <= 'z'))
        {
            yield return "must contain at least one letter (a-z)";
        }

        if (value.Contains("--", StringComparison.Ordinal))
        {
            yield return "must not contain consecutive hyphens (-)";
        }

        if (value.Length > 0 && (value[0] == '-' || value[^1] == '-'))
        {
            yield return "must not begin or end with a hyphen (-)";
        }
    }

    public static bool IsLabelValue(string value) => value.Length == 0 || (value.Length <= 63 && QualifiedNameRegex().IsMatch(value));

    private static IEnumerable<string> PathSegment(string value)
    {
        if (value is "." or ".." || value.Contains('/', StringComparison.Ordinal) || value.Contains('%', StringComparison.Ordinal))
        {
            yield return $"may not be '.', '..' or contain '/' or '%'";
        }
    }

    [GeneratedRegex("^[-a-z0-9]+$")]
    private static partial Regex PortNameCharsetRegex();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123LabelRegex();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035LabelRegex();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123SubdomainRegex();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedNameRegex();
}
