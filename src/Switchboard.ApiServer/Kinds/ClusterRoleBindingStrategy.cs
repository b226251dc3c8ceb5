using k8s.Models;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// rbac.authorization.k8s.io/v1 ClusterRoleBindings: roleRef and subjects validated as upstream's, roleRef immutable, and written
/// only by a user who may bind the role or holds its rules (<see cref="EscalationCheck"/>).
/// </summary>
internal sealed class ClusterRoleBindingStrategy(EscalationCheck escalation) : ResourceStrategy<V1ClusterRoleBinding>
{
    private static readonly IReadOnlyList<TableColumn<V1ClusterRoleBinding>> Table = RbacRules.BindingColumns<V1ClusterRoleBinding>(b => b.RoleRef, b => b.Subjects);

    public override NameRule NameRule => NameRule.PathSegment;

    public override IReadOnlyList<TableColumn<V1ClusterRoleBinding>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1ClusterRoleBinding obj)
    {
        escalation.CheckBinding("clusterrolebindings", null, obj.Metadata.Name, obj.RoleRef);
        return RbacRules.ValidateBinding(obj.RoleRef, obj.Subjects, clusterWide: true);
    }

    public override IEnumerable<FieldError> ValidateUpdate(V1ClusterRoleBinding obj, V1ClusterRoleBinding old) =>
        Validate(obj).Concat(RbacRules.ValidateRoleRefUnchanged(obj.RoleRef, old.RoleRef));
}
