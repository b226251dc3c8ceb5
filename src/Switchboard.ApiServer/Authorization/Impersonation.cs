using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// kube-apiserver's impersonation filter: <c>Impersonate-User</c>, <c>Impersonate-Group</c> (repeated),
/// <c>Impersonate-Uid</c> and <c>Impersonate-Extra-KEY</c> make the request the named user's, each part allowed by the
/// verb <c>impersonate</c> on users (or the service account), groups, uids and userextras/KEY.
/// </summary>
internal static class Impersonation
{
    private const string ExtraPrefix = "Impersonate-Extra-";

    /// <summary>The user the request acts as: <paramref name="user"/> itself when it impersonates nobody.</summary>
    public static UserInfo Apply(HttpContext http, UserInfo user, RequestAuthorizer authorizer)
    {
        var headers = http.Request.Headers;
        string name = headers["Impersonate-User"].ToString();
        string[] groups = [.. headers["Impersonate-Group"].Where(g => !string.IsNullOrEmpty(g)).Select(g => g!)];
        string uid = headers["Impersonate-Uid"].ToString();
        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (header, values) in headers)
        {
            if (header.StartsWith(ExtraPrefix, StringComparison.OrdinalIgnoreCase))
            {
                extra[Uri.UnescapeDataString(header[ExtraPrefix.Length..]).ToLowerInvariant()] = [.. values.Select(v => v ?? "")];
            }
        }

        if (name.Length == 0)
        {
            if (groups.Length > 0 || uid.Length > 0 || extra.Count > 0)
            {
                throw ApiException.Internal("requested impersonation of groups, uid or extra without impersonating a user");
            }

            return user;
        }

        var account = UserInfo.ServiceAccountOf(name);
        authorizer.Require(account is { } serviceAccount
            ? RequestAttributes.ForResource(user, "impersonate", "", "serviceaccounts", null, serviceAccount.Namespace, serviceAccount.Name)
            : RequestAttributes.ForResource(user, "impersonate", "", "users", null, null, name));
        foreach (string group in groups)
        {
            authorizer.Require(RequestAttributes.ForResource(user, "impersonate", "", "groups", null, null, group));
        }

        if (uid.Length > 0)
        {
            authorizer.Require(RequestAttributes.ForResource(user, "impersonate", "authentication.k8s.io", "uids", null, null, uid));
        }

        foreach (var (key, values) in extra)
        {
            foreach (string value in values)
            {
                authorizer.Require(RequestAttributes.ForResource(user, "impersonate", "authentication.k8s.io", "userextras", key, null, value));
            }
        }

        IEnumerable<string> impersonatedGroups = groups.Length == 0 && account is { } impersonated ? UserInfo.ServiceAccountGroups(impersonated.Namespace) : groups;
        return name == "system:anonymous"
            ? new UserInfo(name, uid, [.. impersonatedGroups, "system:unauthenticated"], extra)
            : UserInfo.Create(name, uid, impersonatedGroups, extra);
    }
}
