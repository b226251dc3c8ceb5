using k8s.Models;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>core/v1 ServiceAccounts: the identities pods run as, whose tokens <c>serviceaccounts/token</c> issues.</summary>
internal sealed class ServiceAccountStrategy : ResourceStrategy<V1ServiceAccount>
{
    private static readonly IReadOnlyList<TableColumn<V1ServiceAccount>> Table =
    [
        Columns.Name<V1ServiceAccount>(),
        new("Secrets", "string", 0, (s, _) => s.Secrets?.Count ?? 0, "", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."),
        Columns.Age<V1ServiceAccount>(),
    ];

    public override IReadOnlyList<TableColumn<V1ServiceAccount>> TableColumns => Table;
}
