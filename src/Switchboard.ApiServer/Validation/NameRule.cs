namespace Switchboard.ApiServer.Validation;

/// <summary>Which name format a kind requires (apimachinery validation/generic.go).</summary>
internal enum NameRule
{
    /// <summary>DNS-1123 subdomain: lower-case labels joined by dots, at most 253 characters.</summary>
    Subdomain,

    /// <summary>DNS-1123 label: <c>[a-z0-9]([-a-z0-9]*[a-z0-9])?</c>, at most 63 characters.</summary>
    Label,

    /// <summary>DNS-1035 label: <c>[a-z]([-a-z0-9]*[a-z0-9])?</c>, at most 63 characters.</summary>
    Dns1035Label,

    /// <summary>Any name that is a valid path segment.</summary>
    PathSegment,
}
