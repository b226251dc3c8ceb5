using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// kube-apiserver's authorizer chain as configured by kubeadm (<c>--authorization-mode=Node,RBAC</c> without the node
/// part): members of system:masters may do anything without a look at RBAC (the admin's fast path), everyone else
/// what their bindings grant. A refusal is kube-apiserver's 403 Status, with RBAC's reason when a binding names a
/// missing role.
/// </summary>
internal sealed class RequestAuthorizer(Func<RbacPolicy> policy)
{
    /// <summary>The RBAC objects as they stand (<see cref="RbacCache.Policy"/> in the server).</summary>
    public RbacPolicy Policy => policy();

    public AuthorizationDecision Authorize(RequestAttributes request)
    {
        if (request.User.IsMaster)
        {
            return new AuthorizationDecision(true, "");
        }

        var rules = policy().RulesFor(request.User, request.Namespace);
        foreach (var rule in rules.Rules)
        {
            if (rule.Allows(request))
            {
                return new AuthorizationDecision(true, "RBAC: allowed by " + rule.Source);
            }
        }

        string reason = rules.Errors switch
        {
            [] => "",
            [var one] => "RBAC: " + one,
            var many => "RBAC: [" + string.Join(", ", many) + "]",
        };
        return new AuthorizationDecision(false, reason);
    }

    /// <summary>Throws the 403 of a request its user may not make.</summary>
    public void Require(RequestAttributes request)
    {
        var decision = Authorize(request);
        if (!decision.Allowed)
        {
            throw Forbidden(request, decision.Reason);
        }
    }

    public static ApiException Forbidden(RequestAttributes request, string reason)
    {
        string why = request.DeniedMessage() + (reason.Length > 0 ? ": " + reason : "");
        return request.IsResourceRequest ? ApiException.ForbiddenRequest(request.Group, request.Resource, request.Name, why) : ApiException.ForbiddenRequest("", "", "", why);
    }
}

/// <summary>An authorizer's answer and why (empty when nothing needs saying).</summary>
internal readonly record struct AuthorizationDecision(bool Allowed, string Reason);
