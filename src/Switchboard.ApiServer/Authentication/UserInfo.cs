using Microsoft.AspNetCore.Http;

namespace Switchboard.ApiServer.Authentication;

/// <summary>
/// Who made a request, as kube-apiserver's user.Info: the name authorization checks, a uid, groups and extra
/// attributes. Set on the request once authentication (and impersonation) has decided it.
/// </summary>
internal sealed record UserInfo(string Name, string Uid, IReadOnlyList<string> Groups, IReadOnlyDictionary<string, IReadOnlyList<string>> Extra)
{
    /// <summary>The group whose members every authorizer allows everything (upstream's SystemPrivilegedGroup).</summary>
    public const string Masters = "system:masters";

    public const string Authenticated = "system:authenticated";

    public const string ServiceAccountPrefix = "system:serviceaccount:";

    public const string ServiceAccountsGroup = "system:serviceaccounts";

    private static readonly object Key = new();

    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoExtra = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The holder of the admin token: kube-apiserver's loopback and kubeadm admin identity.</summary>
    public static UserInfo Admin { get; } = Create("system:admin", "", [Masters]);

    public bool IsMaster => Groups.Contains(Masters);

    /// <summary>A user with <c>system:authenticated</c> added to its groups, as every authenticator's result gets it.</summary>
    public static UserInfo Create(string name, string uid, IEnumerable<string> groups, IReadOnlyDictionary<string, IReadOnlyList<string>>? extra = null)
    {
        var all = groups.Where(g => g.Length > 0).ToList();
        if (!all.Contains(Authenticated))
        {
            all.Add(Authenticated);
        }

        return new UserInfo(name, uid, all, extra ?? NoExtra);
    }

    /// <summary>A service account's user name, system:serviceaccount:NAMESPACE:NAME.</summary>
    public static string ServiceAccountUser(string ns, string name) => ServiceAccountPrefix + ns + ":" + name;

    /// <summary>The namespace and name of a service account's user name, or null for any other user.</summary>
    public static (string Namespace, string Name)? ServiceAccountOf(string user)
    {
        if (!user.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        string[] parts = user[ServiceAccountPrefix.Length..].Split(':');
        return parts is [{ Length: > 0 } ns, { Length: > 0 } name] ? (ns, name) : null;
    }

    /// <summary>The groups of a service account: all service accounts, those of its namespace.</summary>
    public static string[] ServiceAccountGroups(string ns) => [ServiceAccountsGroup, ServiceAccountsGroup + ":" + ns];

    public static UserInfo Of(HttpContext http) => http.Items[Key] as UserInfo ?? throw new InvalidOperationException("the request was not authenticated");

    public void SetOn(HttpContext http) => http.Items[Key] = this;
}
