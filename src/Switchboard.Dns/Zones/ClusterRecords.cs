using System.Net;
using k8s.Models;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Zones;

/// <summary>
/// The records the Kubernetes DNS specification (schema 1.1.0) and CoreDNS's kubernetes plugin derive
/// from Services, EndpointSlices and Pods.
/// </summary>
internal static class ClusterRecords
{
    public const string SchemaVersion = "1.1.0";

    /// <summary>CoreDNS serves <c>dns-version</c> with a fixed TTL of 28800.</summary>
    public const uint SchemaVersionTtl = 28800;

    public const string ServiceNameLabel = "kubernetes.io/service-name";

    public static void AddApex(ZoneContributions zone, ClusterZoneOptions options)
    {
        string apex = zone.Domain;
        zone.Add(apex, new ZoneRecord(DnsRecordType.SOA, options.Ttl));
        zone.Add(apex, new ZoneRecord(DnsRecordType.NS, options.Ttl, Target: "ns.dns." + apex));
        foreach (IPAddress address in options.NameServerAddresses)
        {
            zone.Add("ns.dns." + apex, ZoneRecord.ForAddress(address, options.Ttl));
        }

        zone.Add("dns-version." + apex, new ZoneRecord(DnsRecordType.TXT, SchemaVersionTtl, Text: SchemaVersion));
        zone.AddName("svc." + apex);
        if (options.Pods != PodRecordMode.Disabled)
        {
            zone.AddName("pod." + apex);
        }
    }

    /// <summary>A namespace exists: <c>&lt;ns&gt;.svc</c> (and <c>&lt;ns&gt;.pod</c>) answer NODATA, not NXDOMAIN.</summary>
    public static void AddNamespace(ZoneContributions zone, string ns, ClusterZoneOptions options)
    {
        zone.AddName($"{ns}.svc.{zone.Domain}");
        if (options.Pods != PodRecordMode.Disabled)
        {
            zone.MarkPodNamespace($"{ns}.pod.{zone.Domain}");
        }
    }

    public static void AddService(ZoneContributions zone, V1Service service, IEnumerable<V1EndpointSlice> slices, uint ttl)
    {
        string ns = Lower(service.Metadata?.NamespaceProperty) ?? "default";
        string? name = Lower(service.Metadata?.Name);
        V1ServiceSpec? spec = service.Spec;
        if (name is null || spec is null)
        {
            return;
        }

        string owner = $"{name}.{ns}.svc.{zone.Domain}";
        if (string.Equals(spec.Type, "ExternalName", StringComparison.Ordinal))
        {
            string? target = Lower(spec.ExternalName)?.TrimEnd('.');
            if (target is not null && DnsName.TryParse(target, out _))
            {
                zone.Add(owner, new ZoneRecord(DnsRecordType.CNAME, ttl, Target: target));
            }

            return;
        }

        if (string.Equals(spec.ClusterIP, "None", StringComparison.Ordinal))
        {
            AddHeadless(zone, owner, slices, spec.PublishNotReadyAddresses == true, ttl);
            return;
        }

        // A ClusterIP service exists with or without endpoints (and before an IP is allocated).
        zone.AddName(owner);
        IEnumerable<string> ips = spec.ClusterIPs is { Count: > 0 } ? spec.ClusterIPs : spec.ClusterIP is null ? [] : [spec.ClusterIP];
        foreach (string ip in ips)
        {
            if (IPAddress.TryParse(ip, out IPAddress? address))
            {
                zone.Add(owner, ZoneRecord.ForAddress(address, ttl));
                zone.Add(IpNames.Reverse(address), new ZoneRecord(DnsRecordType.PTR, ttl, Target: owner));
            }
        }

        foreach (V1ServicePort port in spec.Ports ?? [])
        {
            AddSrv(zone, owner, port.Name, port.Protocol, port.Port, owner, ttl);
        }
    }

    public static void AddPod(ZoneContributions zone, V1Pod pod, uint ttl)
    {
        string ns = Lower(pod.Metadata?.NamespaceProperty) ?? "default";
        IEnumerable<string> ips = pod.Status?.PodIPs is { Count: > 0 } podIps
            ? podIps.Select(p => p.Ip)
            : pod.Status?.PodIP is { } single ? [single] : [];
        foreach (string ip in ips)
        {
            if (IPAddress.TryParse(ip, out IPAddress? address))
            {
                zone.Add($"{IpNames.Dashed(address)}.{ns}.pod.{zone.Domain}", ZoneRecord.ForAddress(address, ttl));
            }
        }
    }

    /// <summary>
    /// Headless: one address per ready endpoint on the service name and on <c>&lt;hostname&gt;.&lt;svc&gt;</c>,
    /// SRV per endpoint and named port, PTR per endpoint IP. No ready endpoint: the name does not exist.
    /// </summary>
    private static void AddHeadless(ZoneContributions zone, string owner, IEnumerable<V1EndpointSlice> slices, bool publishNotReady, uint ttl)
    {
        foreach (V1EndpointSlice slice in slices)
        {
            if (slice.AddressType is not ("IPv4" or "IPv6"))
            {
                continue;
            }

            foreach (V1Endpoint endpoint in slice.Endpoints ?? [])
            {
                // EndpointSlice semantics: a nil ready condition means ready.
                if (!publishNotReady && endpoint.Conditions?.Ready == false)
                {
                    continue;
                }

                foreach (string ip in endpoint.Addresses ?? [])
                {
                    if (!IPAddress.TryParse(ip, out IPAddress? address))
                    {
                        continue;
                    }

                    string host = $"{Lower(endpoint.Hostname) ?? IpNames.Dashed(address)}.{owner}";
                    ZoneRecord record = ZoneRecord.ForAddress(address, ttl);
                    zone.Add(owner, record);
                    zone.Add(host, record);
                    zone.Add(IpNames.Reverse(address), new ZoneRecord(DnsRecordType.PTR, ttl, Target: host));
                    foreach (Discoveryv1EndpointPort port in slice.Ports ?? [])
                    {
                        AddSrv(zone, owner, port.Name, port.Protocol, port.Port ?? 0, host, ttl);
                    }
                }
            }
        }
    }

    /// <summary><c>_&lt;port&gt;._&lt;proto&gt;.&lt;svc&gt;...</c> SRV; unnamed ports get none.</summary>
    private static void AddSrv(ZoneContributions zone, string owner, string? portName, string? protocol, int port, string target, uint ttl)
    {
        if (string.IsNullOrEmpty(portName) || port is <= 0 or > ushort.MaxValue)
        {
            return;
        }

        string proto = Lower(protocol) ?? "tcp";
        zone.Add($"_{Lower(portName)}._{proto}.{owner}", new ZoneRecord(DnsRecordType.SRV, ttl, Target: target, Port: (ushort)port));
    }

    private static string? Lower(string? value) => string.IsNullOrEmpty(value) ? null : value.ToLowerInvariant();
}
