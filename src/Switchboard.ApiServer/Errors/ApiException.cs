using k8s.Models;

namespace Switchboard.ApiServer.Errors;

/// <summary>
/// A request failure that is answered with a Kubernetes <c>Status</c> object. Its inner exception, when there is one,
/// is the server-side failure behind it (a store that failed), which the server logs.
/// </summary>
internal sealed class ApiException : Exception
{
    public ApiException(V1Status status, Exception? cause = null)
        : base(status.Message, cause)
    {
        Status = status;
    }

    public V1Status Status { get; }

    public int Code => Status.Code ?? 500;

    public static ApiException NotFound(string resource, string name, string group = "") =>
        Create(404, "NotFound", $"{Qualified(resource, group)} \"{name}\" not found", Details(resource, name, group));

    public static ApiException AlreadyExists(string resource, string name, string group = "") =>
        Create(409, "AlreadyExists", $"{Qualified(resource, group)} \"{name}\" already exists", Details(resource, name, group));

    public static ApiException Conflict(string resource, string name, string group, string why) =>
        Create(409, "Conflict", $"Operation cannot be fulfilled on {Qualified(resource, group)} \"{name}\": {why}", Details(resource, name, group));

    public static ApiException StaleUpdate(string resource, string name, string group) =>
        Conflict(resource, name, group, "the object has been modified; please apply your changes to the latest version and try again");

    public static ApiException Invalid(string kind, string name, string group, IReadOnlyList<FieldError> errors)
    {
        // As apimachinery's ErrorList.ToAggregate: the message says each distinct error once; the causes keep them all.
        var messages = errors.Select(e => e.ToString()).Distinct().ToList();
        string list = messages.Count == 1 ? messages[0] : "[" + string.Join(", ", messages) + "]";
        var details = new V1StatusDetails
        {
            Name = name,
            Group = group.Length == 0 ? null : group,
            Kind = kind,
            Causes = [.. errors.Select(e => new V1StatusCause { Reason = e.Reason, Message = e.Body, Field = e.Field })],
        };
        return Create(422, "Invalid", $"{kind}{(group.Length == 0 ? "" : "." + group)} \"{name}\" is invalid: {list}", details);
    }

    public static ApiException BadRequest(string message) => Create(400, "BadRequest", message);

    public static ApiException UnsupportedMediaType(string contentType) =>
        Create(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {contentType})");

    /// <summary>A server-side apply that would change fields other managers own (apimachinery's NewApplyConflict).</summary>
    public static ApiException ApplyConflict(string message, IList<V1StatusCause> causes) =>
        Create(409, "Conflict", message, new V1StatusDetails { Causes = causes });

    public static ApiException UnsupportedBodyMediaType(string contentType) =>
        Create(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {contentType})");

    public static ApiException NotAcceptable(string message) => Create(406, "NotAcceptable", message);

    public static ApiException MethodNotAllowed(string verb, string resource) =>
        Create(405, "MethodNotAllowed", $"{verb} is not supported on resources of kind \"{resource}\"");

    /// <summary>A method that no route of the path takes: kube-apiserver's router answers it before any storage sees it.</summary>
    public static ApiException MethodNotRouted() => Create(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");

    public static ApiException Forbidden(string resource, string name, string why, string group = "") =>
        Create(403, "Forbidden", $"{Qualified(resource, group)} \"{name}\" is forbidden: {why}", Details(resource, name, group));

    /// <summary>
    /// An authorizer's refusal, as kube-apiserver's ForbiddenStatusError: <c>pods "x" is forbidden: User …</c>, or
    /// <c>forbidden: User …</c> for a path; details name the group, resource and name.
    /// </summary>
    public static ApiException ForbiddenRequest(string group, string resource, string name, string why)
    {
        string message = resource.Length == 0 ? "forbidden: " + why
            : name.Length == 0 ? $"{Qualified(resource, group)} is forbidden: {why}"
            : $"{Qualified(resource, group)} \"{name}\" is forbidden: {why}";
        var details = new V1StatusDetails { Name = name.Length == 0 ? null : name, Kind = resource.Length == 0 ? null : resource, Group = group.Length == 0 ? null : group };
        return Create(403, "Forbidden", message, details);
    }

    public static ApiException Expired(string message) => Create(410, "Expired", message);

    public static ApiException Gone(string message) => Create(410, "Gone", message);

    public static ApiException PathNotFound() => Create(404, "NotFound", "the server could not find the requested resource");

    public static ApiException Unauthorized() => Create(401, "Unauthorized", "Unauthorized");

    public static ApiException Internal(string message, Exception? cause = null) => Create(500, "InternalError", "Internal error occurred: " + message, cause: cause);

    public static ApiException Unavailable(string message, Exception? cause = null) => Create(503, "ServiceUnavailable", message, cause: cause);

    /// <summary>A body over the server's limit, as kube-apiserver's limitedReadBody refuses it.</summary>
    public static ApiException RequestEntityTooLarge(long limit) =>
        RequestEntityTooLarge($"limit is {limit.ToString(System.Globalization.CultureInfo.InvariantCulture)}");

    /// <summary>A request that would build more than the server takes (apierrors.NewRequestEntityTooLargeError).</summary>
    public static ApiException RequestEntityTooLarge(string why) => Create(413, "RequestEntityTooLarge", "Request entity too large: " + why);

    /// <summary>
    /// A 422 whose cause is <paramref name="why"/>, as kube-apiserver answers a JSON patch it cannot apply
    /// (apierrors.NewGenericServerResponse with StatusUnprocessableEntity).
    /// </summary>
    public static ApiException Unprocessable(string why) =>
        new(Failure(422, "Invalid", "the server rejected our request due to an error in our request", new V1StatusDetails { Causes = [new V1StatusCause { Reason = "UnexpectedServerResponse", Message = why }] }));

    /// <summary>
    /// More requests of a kind in flight than the server's limit allows: 429 with Retry-After 1, as kube-apiserver's
    /// max-in-flight filter answers (apierrors.NewTooManyRequests).
    /// </summary>
    public static ApiException TooManyRequests() =>
        Create(429, "TooManyRequests", "Too many requests, please try again later.", new V1StatusDetails { RetryAfterSeconds = 1 });

    /// <summary>A request refused for now (apierrors.NewTooManyRequests with no retry time), with the cause the client may print.</summary>
    public static ApiException TooManyRequests(string message, V1StatusCause cause) =>
        Create(429, "TooManyRequests", message, new V1StatusDetails { Causes = [cause] });

    public static V1Status Failure(int code, string reason, string message, V1StatusDetails? details = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Status",
        Metadata = new V1ListMeta(),
        Status = "Failure",
        Message = message,
        Reason = reason,
        Details = details,
        Code = code,
    };

    private static ApiException Create(int code, string reason, string message, V1StatusDetails? details = null, Exception? cause = null) =>
        new(Failure(code, reason, message, details), cause);

    private static string Qualified(string resource, string group) => group.Length == 0 ? resource : resource + "." + group;

    private static V1StatusDetails Details(string resource, string name, string group) =>
        new() { Name = name, Kind = resource, Group = group.Length == 0 ? null : group };
}
