using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using k8s.Models;
using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// <c>serviceaccounts/NAME/token</c>, kube-apiserver's TokenRequest (<c>kubectl create token</c>, the kubelet's projected
/// tokens): a token for an existing service account, for the audiences asked (the API's by default), lasting
/// <c>expirationSeconds</c> (3600 by default, at least 600), and bound to a Pod, Secret or Node when asked, which must
/// exist with the uid given. Also the OIDC discovery documents of the issuer. Implements <see cref="IBoundObjects"/>
/// for the authenticator over the same stores.
/// </summary>
internal sealed class TokenRequests(
    ServiceAccountTokens tokens, ResourceStore<V1ServiceAccount> serviceAccounts, ResourceStore<V1Pod> pods, ResourceStore<V1Secret> secrets, ResourceStore<V1Node> nodes, TimeProvider time) : IBoundObjects
{
    private const string Kind = "TokenRequest";
    private const long DefaultSeconds = 3600;
    private const long MinimumSeconds = 600;
    private const long MaximumSeconds = 1L << 32;

    public async Task CreateAsync(HttpContext http, string ns, string name)
    {
        if (http.Request.Method != "POST")
        {
            throw ApiException.MethodNotAllowed(http.Request.Method, "serviceaccounts/token");
        }

        if (await RequestBody.ReadAsync(http) is not JsonObject request)
        {
            throw ApiException.BadRequest("the body of the request is not a TokenRequest object");
        }

        var account = await serviceAccounts.GetAsync(ns, name, http.RequestAborted);
        var spec = request["spec"] as JsonObject ?? [];
        long seconds = spec["expirationSeconds"]?.GetValue<long>() ?? DefaultSeconds;
        if (seconds < MinimumSeconds)
        {
            throw Invalid(name, seconds, "may not specify a duration less than 10 minutes");
        }

        if (seconds > MaximumSeconds)
        {
            throw Invalid(name, seconds, "may not specify a duration larger than 2^32 seconds");
        }

        var audiences = (spec["audiences"] as JsonArray)?.Select(a => a?.ToString() ?? "").Where(a => a.Length > 0).ToList() is { Count: > 0 } asked ? asked : [.. tokens.ApiAudiences];
        await RestrictNodeAsync(UserInfo.Of(http), ns, name, spec["boundObjectRef"] as JsonObject, http.RequestAborted);
        BoundObject? bound = null;
        if (spec["boundObjectRef"] is JsonObject reference)
        {
            string kind = reference["kind"]?.ToString() ?? "";
            string boundName = reference["name"]?.ToString() ?? "";
            if (kind is not ("Pod" or "Secret" or "Node"))
            {
                throw ApiException.BadRequest($"cannot bind token for object of kind \"{kind}\": only Pod, Secret and Node are supported");
            }

            string uid = await UidOfAsync(kind, kind == "Node" ? null : ns, boundName, http.RequestAborted)
                ?? throw ApiException.NotFound(kind.ToLowerInvariant() + "s", boundName);
            if (reference["uid"]?.ToString() is { Length: > 0 } expected && expected != uid)
            {
                throw ApiException.Conflict(kind, boundName, "", $"the UID in the bound object reference ({expected}) does not match the UID in record. The object might have been deleted and then recreated");
            }

            bound = new BoundObject(kind, boundName, uid);
            reference["uid"] = uid;
        }

        var now = time.GetUtcNow();
        var nowSeconds = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        string token = tokens.Issue(new ServiceAccountClaims(ns, name, account.Metadata.Uid, audiences, Guid.NewGuid().ToString(), bound), nowSeconds, TimeSpan.FromSeconds(seconds));
        spec["audiences"] = new JsonArray([.. audiences.Select(a => (JsonNode?)a)]);
        spec["expirationSeconds"] = seconds;
        spec["boundObjectRef"] = spec["boundObjectRef"]?.DeepClone();
        request["spec"] = spec;
        request["kind"] = Kind;
        request["apiVersion"] = "authentication.k8s.io/v1";
        request["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["creationTimestamp"] = nowSeconds.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        request["status"] = new JsonObject
        {
            ["token"] = token,
            ["expirationTimestamp"] = nowSeconds.AddSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        await ApiJson.WriteAsync(http, StatusCodes.Status201Created, request);
    }

    /// <summary>The OIDC documents under the server's root: <c>/.well-known/openid-configuration</c> and <c>/openid/v1/jwks</c>.</summary>
    public Task WriteDiscoveryAsync(HttpContext http, bool keys)
    {
        http.Response.Headers.CacheControl = "public, max-age=3600";
        var url = new Uri($"https://{http.Request.Host}");
        var document = keys ? tokens.Jwks() : tokens.OpenIdConfiguration(url);
        http.Response.StatusCode = 200;
        http.Response.ContentType = keys ? "application/jwk-set+json" : "application/json";
        return http.Response.WriteAsync(document.ToJsonString(), http.RequestAborted);
    }

    public async Task<string?> UidOfAsync(string kind, string? ns, string name, CancellationToken cancellationToken)
    {
        V1ObjectMeta? meta = kind switch
        {
            "ServiceAccount" => (await serviceAccounts.TryGetAsync(ns, name, cancellationToken))?.Metadata,
            "Pod" => (await pods.TryGetAsync(ns, name, cancellationToken))?.Metadata,
            "Secret" => (await secrets.TryGetAsync(ns, name, cancellationToken))?.Metadata,
            "Node" => (await nodes.TryGetAsync(null, name, cancellationToken))?.Metadata,
            _ => null,
        };
        // As upstream's validator: an object whose deletion has come due no longer backs a token (one in its grace period still does).
        return meta is not null && (meta.DeletionTimestamp is null || meta.DeletionTimestamp > time.GetUtcNow().UtcDateTime) ? meta.Uid : null;
    }

    /// <summary>
    /// A node (<c>system:node:NAME</c> in system:nodes) gets tokens only for the pods it runs, as kube-apiserver's Node
    /// authorizer and NodeRestriction admission allow: bound to a Pod, by uid, scheduled on that node and running as
    /// the account asked for. Its RBAC role alone would let it mint a token of any account.
    /// </summary>
    private async Task RestrictNodeAsync(UserInfo user, string ns, string name, JsonObject? reference, CancellationToken cancellationToken)
    {
        const string NodePrefix = "system:node:";
        if (!user.Groups.Contains(BootstrapIdentities.NodesGroup) || !user.Name.StartsWith(NodePrefix, StringComparison.Ordinal))
        {
            return;
        }

        string node = user.Name[NodePrefix.Length..];
        string kind = reference?["kind"]?.ToString() ?? "";
        string podName = reference?["name"]?.ToString() ?? "";
        string apiVersion = reference?["apiVersion"]?.ToString() ?? "";
        if (kind != "Pod" || apiVersion != "v1" || podName.Length == 0)
        {
            throw Refused(name, "node requested token not bound to a pod");
        }

        string uid = reference!["uid"]?.ToString() ?? "";
        if (uid.Length == 0)
        {
            throw Refused(name, "node requested token with a pod binding without a uid");
        }

        var pod = await pods.TryGetAsync(ns, podName, cancellationToken) ?? throw ApiException.NotFound("pods", podName);
        if (pod.Metadata.Uid != uid)
        {
            throw Refused(name, $"the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated");
        }

        if (pod.Spec?.NodeName != node)
        {
            throw Refused(name, "node requested token bound to a pod scheduled on a different node");
        }

        if (pod.Spec.ServiceAccountName != name)
        {
            throw Refused(name, $"User \"{user.Name}\" cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"{ns}\": no relationship found between node '{node}' and this object");
        }
    }

    private static ApiException Refused(string name, string why) => ApiException.Forbidden("serviceaccounts", name, why);

    private static ApiException Invalid(string name, long seconds, string why) =>
        ApiException.Invalid(Kind, name, "authentication.k8s.io", [FieldError.Invalid("spec.expirationSeconds", seconds, why)]);
}
