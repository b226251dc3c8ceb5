using k8s.Models;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// rbac.authorization.k8s.io/v1 ClusterRoles: rules validated as upstream's (<see cref="RbacRules"/>), and written only by a
/// user who holds them or may escalate (<see cref="EscalationCheck"/>).
/// </summary>
internal sealed class ClusterRoleStrategy(EscalationCheck escalation) : ResourceStrategy<V1ClusterRole>
{
    private static readonly IReadOnlyList<TableColumn<V1ClusterRole>> Table = RbacRules.RoleColumns<V1ClusterRole>();

    public override NameRule NameRule => NameRule.PathSegment;

    public override IReadOnlyList<TableColumn<V1ClusterRole>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1ClusterRole obj)
    {
        escalation.CheckRole("clusterroles", null, obj.Metadata.Name, obj.Rules);
        return RbacRules.ValidateRules(obj.Rules, clusterWide: true);
    }
}
