using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>coordination.k8s.io/v1 Leases: node heartbeats in kube-node-lease, and leader election.</summary>
internal sealed class LeaseStrategy : ResourceStrategy<V1Lease>
{
    private static readonly IReadOnlyList<TableColumn<V1Lease>> Table =
    [
        Columns.Name<V1Lease>(),
        new("Holder", "string", 0, (l, _) => l.Spec?.HolderIdentity ?? "", "", "The holder of the lease"),
        Columns.Age<V1Lease>(),
    ];

    public override IReadOnlyList<TableColumn<V1Lease>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1Lease obj)
    {
        if (obj.Spec?.LeaseDurationSeconds is <= 0 and var duration)
        {
            yield return FieldError.Invalid("spec.leaseDurationSeconds", duration, "must be greater than 0");
        }

        if (obj.Spec?.LeaseTransitions is < 0 and var transitions)
        {
            yield return FieldError.Invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0");
        }
    }
}
