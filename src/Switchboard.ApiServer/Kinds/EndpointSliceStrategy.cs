using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>discovery.k8s.io/v1 EndpointSlices.</summary>
internal sealed class EndpointSliceStrategy : ResourceStrategy<V1EndpointSlice>
{
    private static readonly IReadOnlyList<TableColumn<V1EndpointSlice>> Table =
    [
        Columns.Name<V1EndpointSlice>(),
        new("AddressType", "string", 0, (s, _) => s.AddressType, "", "The type of address carried by this EndpointSlice."),
        new("Ports", "string", 0, (s, _) => s.Ports is { Count: > 0 } ports ? string.Join(",", ports.Select(p => p.Port?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "<unset>")) : "<unset>", "", "Ports of this EndpointSlice."),
        new("Endpoints", "string", 0, (s, _) => Endpoints(s), "", "Endpoints of this EndpointSlice."),
        Columns.Age<V1EndpointSlice>(),
    ];

    public override IReadOnlyList<TableColumn<V1EndpointSlice>> TableColumns => Table;

    public override void Default(V1EndpointSlice obj)
    {
        foreach (var port in obj.Ports ?? [])
        {
            port.Protocol ??= "TCP";
            port.Name ??= "";
        }
    }

    public override IEnumerable<FieldError> Validate(V1EndpointSlice obj)
    {
        if (obj.AddressType is not ("IPv4" or "IPv6" or "FQDN"))
        {
            yield return FieldError.NotSupported("addressType", obj.AddressType, "FQDN", "IPv4", "IPv6");
        }
    }

    private static string Endpoints(V1EndpointSlice s)
    {
        var all = (s.Endpoints ?? []).SelectMany(e => e.Addresses ?? []).ToList();
        if (all.Count == 0)
        {
            return "<unset>";
        }

        return all.Count <= 3 ? string.Join(",", all) : string.Join(",", all.Take(3)) + $" + {all.Count - 3} more...";
    }
}
