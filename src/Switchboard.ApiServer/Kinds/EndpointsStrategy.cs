using k8s.Models;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>v1 Endpoints, written by the endpoints controller.</summary>
internal sealed class EndpointsStrategy : ResourceStrategy<V1Endpoints>
{
    private static readonly IReadOnlyList<TableColumn<V1Endpoints>> Table =
    [
        Columns.Name<V1Endpoints>(),
        new("Endpoints", "string", 0, (e, _) => Addresses(e), "", "Endpoints is the list of endpoints in the service."),
        Columns.Age<V1Endpoints>(),
    ];

    public override IReadOnlyList<TableColumn<V1Endpoints>> TableColumns => Table;

    public override void Default(V1Endpoints obj)
    {
        foreach (var port in obj.Subsets?.SelectMany(s => s.Ports ?? []) ?? [])
        {
            port.Protocol ??= "TCP";
        }
    }

    /// <summary>ip:port pairs, the first three then " + N more..." (printers.go formatEndpoints).</summary>
    private static string Addresses(V1Endpoints e)
    {
        var all = new List<string>();
        foreach (var subset in e.Subsets ?? [])
        {
            var ports = subset.Ports ?? [];
            foreach (var address in subset.Addresses ?? [])
            {
                all.AddRange(ports.Count == 0 ? [address.Ip] : ports.Select(p => $"{address.Ip}:{p.Port}"));
            }
        }

        if (all.Count == 0)
        {
            return "<none>";
        }

        return all.Count <= 3 ? string.Join(",", all) : string.Join(",", all.Take(3)) + $" + {all.Count - 3} more...";
    }
}
