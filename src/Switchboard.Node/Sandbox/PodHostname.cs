using k8s.Models;

namespace Switchboard.Node.Sandbox;

/// <summary>The pod's hostname and domain (kubelet's GeneratePodHostNameAndDomain) and its /etc/hosts (managedHostsFileContent).</summary>
internal static class PodHostname
{
    public static string Hostname(V1Pod pod)
    {
        string name = string.IsNullOrEmpty(pod.Spec.Hostname) ? pod.Metadata.Name : pod.Spec.Hostname;
        return name.Length > 63 ? name[..63].TrimEnd('-', '.') : name;
    }

    /// <summary><c>&lt;subdomain&gt;.&lt;ns&gt;.svc.&lt;domain&gt;</c>, or null without a subdomain.</summary>
    public static string? Domain(V1Pod pod, string clusterDomain) =>
        string.IsNullOrEmpty(pod.Spec.Subdomain) ? null : $"{pod.Spec.Subdomain}.{pod.Metadata.NamespaceProperty}.svc.{clusterDomain}";

    public static string HostsFile(V1Pod pod, IEnumerable<string> podIps, string clusterDomain)
    {
        var lines = new List<string>
        {
            "# Kubernetes-managed hosts file.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "fe00::0\tip6-localnet",
            "fe00::0\tip6-mcastprefix",
            "fe00::1\tip6-allnodes",
            "fe00::2\tip6-allrouters",
        };
        string hostname = Hostname(pod);
        string? domain = Domain(pod, clusterDomain);
        foreach (string ip in podIps)
        {
            lines.Add(domain is null ? $"{ip}\t{hostname}" : $"{ip}\t{hostname}.{domain}\t{hostname}");
        }

        if (pod.Spec.HostAliases is { Count: > 0 } aliases)
        {
            lines.Add("");
            lines.Add("# Entries added by HostAliases.");
            lines.AddRange(aliases.Select(a => a.Ip + "\t" + string.Join('\t', a.Hostnames ?? [])));
        }

        return string.Join('\n', lines) + "\n";
    }
}
