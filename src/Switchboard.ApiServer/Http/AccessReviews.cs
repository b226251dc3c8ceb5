using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Discovery;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// The review APIs kubectl auth asks: SelfSubjectAccessReview (<c>can-i</c>), SelfSubjectRulesReview (<c>can-i --list</c>),
/// SubjectAccessReview and LocalSubjectAccessReview (authorization.k8s.io/v1), and SelfSubjectReview (<c>whoami</c>,
/// authentication.k8s.io/v1). Each is a create that stores nothing: the body comes back 201 with its status filled,
/// from the same authorizer that judges requests.
/// </summary>
internal sealed class AccessReviews(RequestAuthorizer authorizer)
{
    public const string AuthorizationGroup = "authorization.k8s.io";
    public const string AuthenticationGroup = "authentication.k8s.io";

    /// <summary>What discovery lists of the two groups, as kube-apiserver registers the reviews: create only.</summary>
    public static IReadOnlyList<ServedGroup> Discovery { get; } =
    [
        new(AuthorizationGroup, "v1",
        [
            new ServedResource("localsubjectaccessreviews", "LocalSubjectAccessReview", Namespaced: true, ["create"], typeof(V1LocalSubjectAccessReview)),
            new ServedResource("selfsubjectaccessreviews", "SelfSubjectAccessReview", Namespaced: false, ["create"], typeof(V1SelfSubjectAccessReview)),
            new ServedResource("selfsubjectrulesreviews", "SelfSubjectRulesReview", Namespaced: false, ["create"], typeof(V1SelfSubjectRulesReview)),
            new ServedResource("subjectaccessreviews", "SubjectAccessReview", Namespaced: false, ["create"], typeof(V1SubjectAccessReview)),
        ]),
        new(AuthenticationGroup, "v1", [new ServedResource("selfsubjectreviews", "SelfSubjectReview", Namespaced: false, ["create"], typeof(V1SelfSubjectReview))]),
    ];

    /// <summary>The review resource of a path under /apis, and the namespace of a local one; null for any other path.</summary>
    public static (string Resource, string? Namespace)? Route(string group, string version, string[] rest) => (group, version, rest) switch
    {
        (AuthorizationGroup, "v1", [var resource and ("selfsubjectaccessreviews" or "selfsubjectrulesreviews" or "subjectaccessreviews")]) => (resource, null),
        (AuthorizationGroup, "v1", ["namespaces", var ns, "localsubjectaccessreviews"]) => ("localsubjectaccessreviews", ns),
        (AuthenticationGroup, "v1", ["selfsubjectreviews"]) => ("selfsubjectreviews", null),
        _ => null,
    };

    public async Task HandleAsync(HttpContext http, string resource, string? ns)
    {
        if (http.Request.Method != "POST")
        {
            throw ApiException.MethodNotAllowed(http.Request.Method, resource);
        }

        var user = UserInfo.Of(http);
        if (await RequestBody.ReadAsync(http) is not JsonObject review)
        {
            throw ApiException.BadRequest($"the body of the request is not a {KindOf(resource)} object");
        }

        var spec = review["spec"] as JsonObject ?? [];
        review["spec"] = spec;
        review["status"] = resource switch
        {
            "selfsubjectaccessreviews" => Access(user, spec, resource, null),
            "subjectaccessreviews" => Access(SubjectOf(spec, resource), spec, resource, null),
            "localsubjectaccessreviews" => Access(SubjectOf(spec, resource), spec, resource, ns),
            "selfsubjectrulesreviews" => Rules(user, spec),
            _ => new JsonObject { ["userInfo"] = UserInfoNode(user) },
        };
        review["kind"] = KindOf(resource);
        review["apiVersion"] = (resource == "selfsubjectreviews" ? AuthenticationGroup : AuthorizationGroup) + "/v1";
        review["metadata"] = new JsonObject { ["creationTimestamp"] = null };
        await ApiJson.WriteAsync(http, StatusCodes.Status201Created, review);
    }

    private JsonObject Access(UserInfo user, JsonObject spec, string resource, string? localNamespace)
    {
        var attributes = spec["resourceAttributes"] as JsonObject;
        var path = spec["nonResourceAttributes"] as JsonObject;
        if ((attributes is null) == (path is null))
        {
            throw ApiException.Invalid(KindOf(resource), "", AuthorizationGroup, [FieldError.Invalid("spec.resourceAttributes", "null", "exactly one of nonResourceAttributes or resourceAttributes must be specified")]);
        }

        if (localNamespace is not null && attributes?["namespace"]?.ToString() is { } specNamespace && specNamespace != localNamespace)
        {
            throw ApiException.Invalid(KindOf(resource), "", AuthorizationGroup, [FieldError.Invalid("spec.resourceAttributes.namespace", specNamespace, "must match metadata.namespace")]);
        }

        var request = attributes is not null
            ? RequestAttributes.ForResource(
                user, Text(attributes, "verb"), Text(attributes, "group"), Text(attributes, "resource"), Text(attributes, "subresource"), localNamespace ?? Text(attributes, "namespace"), Text(attributes, "name"))
            : RequestAttributes.ForPath(user, Text(path!, "verb"), Text(path!, "path"));
        var decision = authorizer.Authorize(request);
        var status = new JsonObject { ["allowed"] = decision.Allowed };
        if (decision.Reason.Length > 0)
        {
            status["reason"] = decision.Reason;
        }

        return status;
    }

    private JsonObject Rules(UserInfo user, JsonObject spec)
    {
        string ns = Text(spec, "namespace");
        if (ns.Length == 0)
        {
            throw ApiException.BadRequest("no namespace on request");
        }

        var rules = authorizer.Policy.RulesFor(user, ns);
        var resourceRules = new JsonArray();
        var pathRules = new JsonArray();
        foreach (var rule in rules.Rules.Select(r => r.Rule))
        {
            if (rule.NonResourceURLs is { Count: > 0 })
            {
                pathRules.Add((JsonNode)new JsonObject { ["verbs"] = Strings(rule.Verbs), ["nonResourceURLs"] = Strings(rule.NonResourceURLs) });
                continue;
            }

            var entry = new JsonObject { ["verbs"] = Strings(rule.Verbs) };
            if (rule.ApiGroups is { Count: > 0 })
            {
                entry["apiGroups"] = Strings(rule.ApiGroups);
            }

            if (rule.Resources is { Count: > 0 })
            {
                entry["resources"] = Strings(rule.Resources);
            }

            if (rule.ResourceNames is { Count: > 0 })
            {
                entry["resourceNames"] = Strings(rule.ResourceNames);
            }

            resourceRules.Add((JsonNode)entry);
        }

        var status = new JsonObject { ["resourceRules"] = resourceRules, ["nonResourceRules"] = pathRules, ["incomplete"] = false };
        if (rules.Errors.Count > 0)
        {
            status["evaluationError"] = string.Join(", ", rules.Errors);
        }

        return status;
    }

    /// <summary>The user a SubjectAccessReview asks about, as its spec gives it (nothing added).</summary>
    private static UserInfo SubjectOf(JsonObject spec, string resource)
    {
        string name = Text(spec, "user");
        var groups = (spec["groups"] as JsonArray ?? []).Select(g => g?.ToString() ?? "").ToList();
        if (name.Length == 0 && groups.Count == 0)
        {
            throw ApiException.Invalid(KindOf(resource), "", AuthorizationGroup, [FieldError.Invalid("spec.user", "", "at least one of user or group must be specified")]);
        }

        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, values) in spec["extra"] as JsonObject ?? [])
        {
            extra[key] = [.. (values as JsonArray ?? []).Select(v => v?.ToString() ?? "")];
        }

        return new UserInfo(name, Text(spec, "uid"), groups, extra);
    }

    private static JsonObject UserInfoNode(UserInfo user)
    {
        var node = new JsonObject { ["username"] = user.Name };
        if (user.Uid.Length > 0)
        {
            node["uid"] = user.Uid;
        }

        node["groups"] = Strings([.. user.Groups]);
        if (user.Extra.Count > 0)
        {
            var extra = new JsonObject();
            foreach (var (key, values) in user.Extra)
            {
                extra[key] = Strings([.. values]);
            }

            node["extra"] = extra;
        }

        return node;
    }

    private static string KindOf(string resource) => resource switch
    {
        "selfsubjectaccessreviews" => "SelfSubjectAccessReview",
        "selfsubjectrulesreviews" => "SelfSubjectRulesReview",
        "subjectaccessreviews" => "SubjectAccessReview",
        "localsubjectaccessreviews" => "LocalSubjectAccessReview",
        _ => "SelfSubjectReview",
    };

    private static string Text(JsonObject obj, string name) => obj[name]?.ToString() ?? "";

    private static JsonArray Strings(IList<string>? values) => new([.. (values ?? []).Select(v => (JsonNode?)v)]);
}
