using Switchboard.ApiServer.Authentication;

namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// What a request asks to do, as kube-apiserver's authorizer.Attributes: a verb on a resource (group, resource,
/// subresource, namespace, name), or a verb (the lower-case HTTP method) on a path outside the resources.
/// </summary>
internal sealed record RequestAttributes(UserInfo User, string Verb, bool IsResourceRequest, string Path, string Group, string Resource, string Subresource, string Namespace, string Name)
{
    public static RequestAttributes ForResource(UserInfo user, string verb, string group, string resource, string? subresource, string? ns, string? name) =>
        new(user, verb, true, "", group, resource, subresource ?? "", ns ?? "", name ?? "");

    public static RequestAttributes ForPath(UserInfo user, string verb, string path) => new(user, verb, false, path, "", "", "", "", "");

    /// <summary>The resource as rules name it: <c>pods</c>, or <c>pods/log</c> for a subresource.</summary>
    public string CombinedResource => Subresource.Length == 0 ? Resource : Resource + "/" + Subresource;

    /// <summary>kube-apiserver's forbiddenMessage.</summary>
    public string DeniedMessage() => !IsResourceRequest
        ? $"User \"{User.Name}\" cannot {Verb} path \"{Path}\""
        : Namespace.Length > 0
            ? $"User \"{User.Name}\" cannot {Verb} resource \"{CombinedResource}\" in API group \"{Group}\" in the namespace \"{Namespace}\""
            : $"User \"{User.Name}\" cannot {Verb} resource \"{CombinedResource}\" in API group \"{Group}\" at the cluster scope";
}
