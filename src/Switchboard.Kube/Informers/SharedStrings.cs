using System.Diagnostics.CodeAnalysis;
using k8s;
using k8s.Models;

namespace Switchboard.Kube.Informers;

/// <summary>
/// One instance of the strings that cached objects repeat: each object comes from its own JSON, so 10,000 Services
/// held "v1", "Service", their namespace and a Service's enum-like fields ("ClusterIP", "SingleStack", "IPv4",
/// "TCP"…) as 10,000 copies each, about 350 bytes of every cached Service. The pool is bounded: past
/// <see cref="MaxEntries"/> a string is kept as it came.
/// </summary>
internal static class SharedStrings
{
    private const int MaxEntries = 4096;

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, string> Pool = new(StringComparer.Ordinal);

    /// <summary>Swaps the repeated strings of an object about to be cached for the pool's instances.</summary>
    public static void Share(IKubernetesObject<V1ObjectMeta> obj)
    {
        obj.ApiVersion = Share(obj.ApiVersion);
        obj.Kind = Share(obj.Kind);
        if (obj.Metadata is { } metadata)
        {
            metadata.NamespaceProperty = Share(metadata.NamespaceProperty);
        }

        if (obj is V1Service { Spec: { } spec })
        {
            Share(spec);
        }
    }

    [return: NotNullIfNotNull(nameof(value))]
    public static string? Share(string? value)
    {
        if (value is null)
        {
            return null;
        }

        lock (Gate)
        {
            if (Pool.TryGetValue(value, out string? shared))
            {
                return shared;
            }

            if (Pool.Count < MaxEntries)
            {
                Pool.Add(value, value);
            }

            return value;
        }
    }

    private static void Share(V1ServiceSpec spec)
    {
        spec.Type = Share(spec.Type);
        spec.SessionAffinity = Share(spec.SessionAffinity);
        spec.IpFamilyPolicy = Share(spec.IpFamilyPolicy);
        spec.InternalTrafficPolicy = Share(spec.InternalTrafficPolicy);
        spec.ExternalTrafficPolicy = Share(spec.ExternalTrafficPolicy);
        if (spec.IpFamilies is { } families)
        {
            for (int i = 0; i < families.Count; i++)
            {
                families[i] = Share(families[i]);
            }
        }

        // clusterIPs[0] is clusterIP, read from the JSON a second time.
        if (spec.ClusterIPs is { } clusterIps && spec.ClusterIP is { } clusterIp)
        {
            for (int i = 0; i < clusterIps.Count; i++)
            {
                if (clusterIps[i] == clusterIp)
                {
                    clusterIps[i] = clusterIp;
                }
            }
        }

        foreach (V1ServicePort port in spec.Ports ?? [])
        {
            port.Protocol = Share(port.Protocol);
        }
    }
}
