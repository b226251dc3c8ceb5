using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;

namespace Switchboard.ApiServer.Kinds;

/// <summary>rbac.authorization.k8s.io/v1 ClusterRoles: rules validated as upstream's (<see cref="RbacRules"/>).</summary>
internal sealed class ClusterRoleStrategy : ResourceStrategy<V1ClusterRole>
{
    private static readonly IReadOnlyList<TableColumn<V1ClusterRole>> Table = RbacRules.RoleColumns<V1ClusterRole>();

    public override NameRule NameRule => NameRule.PathSegment;

    public override IReadOnlyList<TableColumn<V1ClusterRole>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1ClusterRole obj) => RbacRules.ValidateRules(obj.Rules, clusterWide: true);
}
