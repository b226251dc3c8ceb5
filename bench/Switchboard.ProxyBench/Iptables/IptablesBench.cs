using System.Diagnostics;
using System.Text;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;

namespace Switchboard.ProxyBench.Iptables;

/// <summary>
/// The iptables part of bench/proxy.sh, on COUNT services of 3 endpoints each (as the EndpointSlice controller writes them):
/// <c>documents --count N --out DIR</c> writes the peers' restore documents: <c>full.rules</c> (everything, for a
/// fresh node), <c>kube-proxy-partial.rules</c> (KEP-3453's partial restore for one service's new endpoint: every
/// shared chain whole plus that service's chains) and <c>minimal.rules</c> (that service's chains alone).
/// <c>sync --netns NS --count N</c> runs Switchboard's iptables proxier in NS (which must be empty): a full sync,
/// one-service updates (the same change as the documents', and back), then a restart: a new proxier over the
/// programmed node. Prints one <c>key: value</c> line per measurement.
/// </summary>
internal static class IptablesBench
{
    private const string ClusterCidr = "10.244.0.0/16";
    private const int Updates = 7;

    public static void WriteDocuments(int count, string directory)
    {
        var options = new IptablesOptions { ClusterCidr = ClusterCidr };
        using var rules = new IptablesRuleSet(options);
        var desired = Services(count, changed: false);
        rules.Render(desired, null);
        string full = rules.Document.ToString();
        File.WriteAllText(Path.Combine(directory, "full.rules"), full);
        rules.Applied();

        // Our partial sync for the change is the smallest restore a tool could send for it.
        var changed = Services(count, changed: true);
        rules.Render(changed, null);
        File.WriteAllText(Path.Combine(directory, "minimal.rules"), rules.Document.ToString());

        // kube-proxy's partial restore: every shared chain declared and written whole, with the changed service's chains.
        using var fresh = new IptablesRuleSet(options);
        fresh.Render(changed, null);
        string[] serviceChains = ["KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-SEP-"];
        var own = new HashSet<string>(StringComparer.Ordinal);
        IptablesRuleWriter.ForEachChain(changed[0], own, static (chain, set) => set.Add(chain));
        var partial = new StringBuilder();
        foreach (string line in fresh.Document.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string? chain = line.StartsWith(':') ? line[1..line.IndexOf(' ', StringComparison.Ordinal)]
                : line.StartsWith("-A ", StringComparison.Ordinal) ? line[3..line.IndexOf(' ', 3)]
                : null;
            if (chain is null || !serviceChains.Any(p => chain.StartsWith(p, StringComparison.Ordinal)) || own.Contains(chain))
            {
                partial.Append(line).Append('\n');
            }
        }

        File.WriteAllText(Path.Combine(directory, "kube-proxy-partial.rules"), partial.ToString());
        Console.WriteLine($"documents: {Encoding.UTF8.GetByteCount(full)} bytes full, {rules.Document.Length} bytes minimal, {partial.Length} bytes kube-proxy partial");
    }

    public static async Task SyncAsync(int count, string netns)
    {
        var iptables = new NetnsIptables(netns);
        var options = new IptablesOptions { ClusterCidr = ClusterCidr };
        var desired = Services(count, changed: false);
        var changed = Services(count, changed: true);

        using (var proxier = new IptablesProxier(iptables, options, NullLogger<IptablesProxier>.Instance, TimeProvider.System))
        {
            var full = await proxier.SyncAsync(desired, CancellationToken.None);
            Console.WriteLine($"full sync ms: {full.Duration.TotalMilliseconds:F0} ({full.Bytes} bytes)");

            // The one service changes and changes back: each a partial sync of one service port.
            var times = new List<double>();
            for (int i = 0; i < Updates; i++)
            {
                var result = await proxier.SyncAsync(i % 2 == 0 ? changed : desired, CancellationToken.None);
                if (result.Full || result.ChangedServicePorts != 1)
                {
                    throw new InvalidOperationException($"update {i} was not a one-service partial sync: {result}");
                }

                times.Add(result.Duration.TotalMilliseconds);
            }

            times.Sort();
            Console.WriteLine($"one-service update ms: {times[times.Count / 2]:F0} (median of {Updates}, {times[0]:F0}..{times[^1]:F0})");
        }

        // A restarted proxy: it reads the node's rules back and writes only what differs (here: nothing).
        var restart = Stopwatch.StartNew();
        using var restarted = new IptablesProxier(iptables, options, NullLogger<IptablesProxier>.Instance, TimeProvider.System);
        var first = await restarted.SyncAsync(Services(count, changed: Updates % 2 == 1), CancellationToken.None);
        Console.WriteLine($"restart s: {restart.Elapsed.TotalSeconds:F2} ({first.Bytes} bytes written)");
    }

    /// <summary>COUNT services of one port and 3 ready endpoints; with <paramref name="changed"/> the first one's last endpoint moved.</summary>
    private static List<ServicePortState> Services(int count, bool changed)
    {
        var ports = new List<ServicePortState>(count);
        for (int i = 0; i < count; i++)
        {
            string ns = $"bench{i % 50}";
            var service = new V1Service
            {
                Metadata = new V1ObjectMeta { Name = $"svc{i}", NamespaceProperty = ns },
                Spec = new V1ServiceSpec
                {
                    Type = "ClusterIP",
                    ClusterIP = $"10.96.{i / 256}.{i % 256}",
                    Ports = [new V1ServicePort { Name = "http", Port = 80, Protocol = "TCP" }],
                },
            };
            int pod = i * 3;
            var slice = new V1EndpointSlice
            {
                Metadata = new V1ObjectMeta { Name = $"svc{i}-x", NamespaceProperty = ns },
                AddressType = "IPv4",
                Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
                Endpoints = [.. Enumerable.Range(0, 3).Select(e => new V1Endpoint
                {
                    Addresses = [Address(changed && i == 0 && e == 2 ? 65_000 : pod + e)],
                    Conditions = new V1EndpointConditions { Ready = true },
                })],
            };
            ports.AddRange(ServicePortStates.From(service, [slice]));
        }

        return ports;
    }

    // Pod addresses in 10.244.0.0/16: 3 per service up to about 21,000 services, the moved endpoint far above them.
    private static string Address(int n) => $"10.244.{n / 256 % 256}.{n % 256}";
}
