using k8s.Models;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// rbac.authorization.k8s.io/v1 RoleBindings: roleRef and subjects validated as upstream's, roleRef immutable, and written
/// only by a user who may bind the role or holds its rules (<see cref="EscalationCheck"/>).
/// </summary>
internal sealed class RoleBindingStrategy(EscalationCheck escalation) : ResourceStrategy<V1RoleBinding>
{
    private static readonly IReadOnlyList<TableColumn<V1RoleBinding>> Table = RbacRules.BindingColumns<V1RoleBinding>(b => b.RoleRef, b => b.Subjects);

    public override NameRule NameRule => NameRule.PathSegment;

    public override IReadOnlyList<TableColumn<V1RoleBinding>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1RoleBinding obj)
    {
        escalation.CheckBinding("rolebindings", obj.Metadata.NamespaceProperty, obj.Metadata.Name, obj.RoleRef);
        return RbacRules.ValidateBinding(obj.RoleRef, obj.Subjects, clusterWide: false);
    }

    public override IEnumerable<FieldError> ValidateUpdate(V1RoleBinding obj, V1RoleBinding old) =>
        Validate(obj).Concat(RbacRules.ValidateRoleRefUnchanged(obj.RoleRef, old.RoleRef));
}
