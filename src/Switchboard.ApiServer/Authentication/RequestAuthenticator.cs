using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Security;

namespace Switchboard.ApiServer.Authentication;

/// <summary>
/// kube-apiserver's union of authenticators, in its order: a client certificate of the cluster CA (CN the user, O the
/// groups), then bearer tokens: the admin token (system:admin in system:masters), the <c>--token-auth-file</c> users and
/// service-account JWTs, whose account (and bound object) must still exist with the uid the token names. A verified
/// service-account token is remembered for 10 seconds, as upstream's token cache, so a busy client is not checked
/// against the store on every request. Nothing presented, or nothing that authenticates: 401.
/// </summary>
internal sealed class RequestAuthenticator(ClusterCredentials credentials, TokenAuthFile tokenFile, ServiceAccountTokens serviceAccounts, IBoundObjects objects, TimeProvider time)
{
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private readonly ConditionalWeakTable<X509Certificate2, UserInfo> _certificates = [];
    private readonly ConcurrentDictionary<string, (UserInfo User, DateTimeOffset Until)> _verified = new(StringComparer.Ordinal);

    public ServiceAccountTokens ServiceAccounts => serviceAccounts;

    public async ValueTask<UserInfo> AuthenticateAsync(HttpContext http)
    {
        if (http.Connection.ClientCertificate is { } certificate && FromCertificate(certificate) is { } fromCertificate)
        {
            return fromCertificate;
        }

        string authorization = http.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.Unauthorized();
        }

        return await AuthenticateTokenAsync(authorization[bearer.Length..].Trim(), http.RequestAborted) ?? throw ApiException.Unauthorized();
    }

    /// <summary>The user a bearer token authenticates (the admin token, a token-file user, a service-account JWT), or null.</summary>
    public async ValueTask<UserInfo?> AuthenticateTokenAsync(string token, CancellationToken cancellationToken)
    {
        if (credentials.IsAdminToken(token))
        {
            return UserInfo.Admin;
        }

        if (string.IsNullOrWhiteSpace(token))
        {
            return null;
        }

        return tokenFile.Find(token) ?? await FromServiceAccountTokenAsync(token, cancellationToken);
    }

    /// <summary>The user of a client certificate the cluster CA issued for client authentication; null for any other.</summary>
    private UserInfo? FromCertificate(X509Certificate2 certificate)
    {
        if (_certificates.TryGetValue(certificate, out var known))
        {
            return known;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(credentials.CertificateAuthority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(ClientAuthentication));
        chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
        if (!chain.Build(certificate))
        {
            return null;
        }

        string? name = null;
        var groups = new List<string>();
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            switch (rdn.GetSingleElementType().Value)
            {
                case "2.5.4.3":
                    name ??= rdn.GetSingleElementValue();
                    break;
                case "2.5.4.10" when rdn.GetSingleElementValue() is { Length: > 0 } organization:
                    groups.Add(organization);
                    break;
            }
        }

        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        var user = UserInfo.Create(name, "", groups);
        _certificates.AddOrUpdate(certificate, user);
        return user;
    }

    private async Task<UserInfo?> FromServiceAccountTokenAsync(string token, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_verified.TryGetValue(token, out var cached) && cached.Until > now)
        {
            return cached.User;
        }

        if (serviceAccounts.Verify(token, now) is not { } claims)
        {
            return null;
        }

        // The account, and the object the token is bound to, must be the ones it was issued for, and not going away.
        if (await objects.UidOfAsync("ServiceAccount", claims.Namespace, claims.Name, cancellationToken) != claims.Uid)
        {
            return null;
        }

        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (claims.Bound is { } bound)
        {
            if (await objects.UidOfAsync(bound.Kind, bound.Kind == "Node" ? null : claims.Namespace, bound.Name, cancellationToken) != bound.Uid)
            {
                return null;
            }

            if (bound.Kind == "Pod")
            {
                extra["authentication.kubernetes.io/pod-name"] = [bound.Name];
                extra["authentication.kubernetes.io/pod-uid"] = [bound.Uid];
            }
        }

        if (claims.Id.Length > 0)
        {
            extra["authentication.kubernetes.io/credential-id"] = ["JTI=" + claims.Id];
        }

        var user = UserInfo.Create(UserInfo.ServiceAccountUser(claims.Namespace, claims.Name), claims.Uid, UserInfo.ServiceAccountGroups(claims.Namespace), extra);
        if (_verified.Count > 10_000)
        {
            _verified.Clear();
        }

        _verified[token] = (user, now + CacheFor);
        return user;
    }
}

/// <summary>The uid of a stored object that is not being deleted (null when there is none), for bound tokens.</summary>
internal interface IBoundObjects
{
    Task<string?> UidOfAsync(string kind, string? ns, string name, CancellationToken cancellationToken);
}
