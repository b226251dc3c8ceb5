using System.Globalization;
using k8s.Models;

namespace Switchboard.Node.Kubelet;

/// <summary>The Docker-link style variables kubelet gives every container for the Services it can see (envvars.go).</summary>
internal static class ServiceEnv
{
    /// <summary>Variables of <paramref name="services"/> (those with a ClusterIP), later services overriding none.</summary>
    public static Dictionary<string, string> Build(IEnumerable<V1Service> services)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            string? ip = service.Spec?.ClusterIP;
            var ports = service.Spec?.Ports;
            if (string.IsNullOrEmpty(ip) || ip == "None" || ports is null || ports.Count == 0)
            {
                continue;
            }

            string prefix = Name(service.Metadata.Name);
            string host = ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]" : ip;
            string Port(V1ServicePort p) => p.Port.ToString(CultureInfo.InvariantCulture);
            string Proto(V1ServicePort p) => p.Protocol ?? "TCP";
            env[prefix + "_SERVICE_HOST"] = ip;
            env[prefix + "_SERVICE_PORT"] = Port(ports[0]);
            foreach (var port in ports.Where(p => !string.IsNullOrEmpty(p.Name)))
            {
                env[$"{prefix}_SERVICE_PORT_{Name(port.Name)}"] = Port(port);
            }

            env[prefix + "_PORT"] = $"{Proto(ports[0]).ToLowerInvariant()}://{host}:{Port(ports[0])}";
            foreach (var port in ports)
            {
                string key = $"{prefix}_PORT_{Port(port)}_{Proto(port).ToUpperInvariant()}";
                env[key] = $"{Proto(port).ToLowerInvariant()}://{host}:{Port(port)}";
                env[key + "_PROTO"] = Proto(port).ToLowerInvariant();
                env[key + "_PORT"] = Port(port);
                env[key + "_ADDR"] = ip;
            }
        }

        return env;
    }

    private static string Name(string name) => name.ToUpperInvariant().Replace('-', '_');
}
