using System.Text;
using k8s.Models;

namespace Switchboard.Node.Sandbox;

/// <summary>
/// The pod's /etc/resolv.conf as kubelet computes it (GetPodDNS) and the runtime writes it: <c>search</c>,
/// <c>nameserver</c> lines, <c>options</c>; per dnsPolicy, with dnsConfig merged and kubelet's limits applied.
/// </summary>
internal static class ResolvConf
{
    private const int MaxNameservers = 3;
    private const int MaxSearches = 32;
    private const int MaxSearchLine = 2048;

    public static string Build(V1Pod pod, string clusterDns, string clusterDomain, string hostResolvConf)
    {
        var spec = pod.Spec;
        string policy = spec.DnsPolicy ?? "ClusterFirst";
        bool hostNetwork = spec.HostNetwork == true;
        var servers = new List<string>();
        var searches = new List<string>();
        var options = new List<string>();
        if (policy == "ClusterFirstWithHostNet" || (policy == "ClusterFirst" && !hostNetwork))
        {
            servers.Add(clusterDns);
            string ns = pod.Metadata.NamespaceProperty ?? "default";
            searches.AddRange([$"{ns}.svc.{clusterDomain}", $"svc.{clusterDomain}", clusterDomain]);
            searches.AddRange(Host(hostResolvConf).Searches);
            options.Add("ndots:5");
        }
        else if (policy != "None")
        {
            var host = Host(hostResolvConf);
            servers.AddRange(host.Servers);
            searches.AddRange(host.Searches);
            options.AddRange(host.Options);
        }

        if (spec.DnsConfig is { } config)
        {
            servers.AddRange(config.Nameservers ?? []);
            searches.AddRange(config.Searches ?? []);
            options = MergeOptions(options, config.Options ?? []);
        }

        servers = [.. servers.Distinct(StringComparer.Ordinal).Take(MaxNameservers)];
        searches = LimitSearches([.. searches.Distinct(StringComparer.Ordinal)]);
        var text = new StringBuilder();
        if (searches.Count > 0)
        {
            text.Append("search ").AppendJoin(' ', searches).Append('\n');
        }

        foreach (string server in servers)
        {
            text.Append("nameserver ").Append(server).Append('\n');
        }

        if (options.Count > 0)
        {
            text.Append("options ").AppendJoin(' ', options).Append('\n');
        }

        return text.ToString();
    }

    private static List<string> LimitSearches(List<string> searches)
    {
        var kept = searches.Where(s => s.Length <= 253).Take(MaxSearches).ToList();
        while (kept.Count > 0 && string.Join(' ', kept).Length > MaxSearchLine)
        {
            kept.RemoveAt(kept.Count - 1);
        }

        return kept;
    }

    /// <summary>Pod options override host/cluster ones of the same name; others are appended in order.</summary>
    private static List<string> MergeOptions(List<string> current, IEnumerable<V1PodDNSConfigOption> extra)
    {
        var merged = current.Select(o => (Name: o.Split(':')[0], Text: o)).ToList();
        foreach (var option in extra)
        {
            string text = option.Value is null ? option.Name : $"{option.Name}:{option.Value}";
            int at = merged.FindIndex(o => o.Name == option.Name);
            if (at >= 0)
            {
                merged[at] = (option.Name, text);
            }
            else
            {
                merged.Add((option.Name, text));
            }
        }

        return [.. merged.Select(o => o.Text)];
    }

    private static (List<string> Servers, List<string> Searches, List<string> Options) Host(string path)
    {
        var servers = new List<string>();
        var searches = new List<string>();
        var options = new List<string>();
        string[] lines = File.Exists(path) ? File.ReadAllLines(path) : [];
        foreach (string line in lines)
        {
            string[] fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#') || fields[0].StartsWith(';'))
            {
                continue;
            }

            switch (fields[0])
            {
                case "nameserver" when fields.Length > 1:
                    servers.Add(fields[1]);
                    break;
                case "search":
                    // The last search line wins, as in the resolver; trailing dots are trimmed.
                    searches = [.. fields.Skip(1).Select(s => s.TrimEnd('.')).Where(s => s.Length > 0)];
                    break;
                case "options":
                    options = [.. fields.Skip(1)];
                    break;
                default:
                    break;
            }
        }

        return (servers, searches, options);
    }
}
