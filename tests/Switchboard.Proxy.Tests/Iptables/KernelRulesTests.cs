using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Tests.Support;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Iptables;

/// <summary>The rendered rules applied to real kernel netfilter inside throwaway namespaces, with real connections.</summary>
public sealed class KernelRulesTests : IDisposable
{
    private const string ClusterIp = "10.96.77.10";
    private const int ServicePort = 80;

    // With 3 endpoints the chi-square statistic has 2 degrees of freedom, where p = exp(-x/2) exactly.
    private const double MinimumP = 0.001;

    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));

    [Fact]
    public async Task Connections_to_a_cluster_IP_spread_over_all_endpoints_and_follow_a_partial_sync()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        var iptables = new NetnsIptables(lab.Node);
        using var proxier = Proxier(iptables);

        var first = await proxier.SyncAsync(Desired(lab.EndpointIps), _deadline.Token);
        Assert.True(first.Full);

        string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 300);
        var counts = lab.EndpointNames.ToDictionary(name => name, name => answers.Count(a => a == name));
        Assert.True(counts.Values.Sum() == 300, $"every connection is answered by an endpoint: {string.Join(", ", answers.Distinct())}");
        double chiSquare = counts.Values.Sum(observed => Math.Pow(observed - 100.0, 2) / 100.0);
        double p = Math.Exp(-chiSquare / 2);
        Assert.True(p > MinimumP, $"shares {string.Join(", ", counts)} give chi-square {chiSquare:F2}, p = {p:G3}");

        // 3 → 1 endpoints: one partial sync rewrites this service's chains and deletes the two stale endpoint chains.
        var second = await proxier.SyncAsync(Desired([lab.EndpointIps[1]]), _deadline.Token);
        Assert.False(second.Full);
        Assert.Equal(1, second.ChangedServicePorts);

        string[] after = await lab.ConnectAsync(ClusterIp, ServicePort, 30);
        Assert.All(after, answer => Assert.Equal(lab.EndpointNames[1], answer));
        var chains = await iptables.ListChainsAsync("nat", _deadline.Token);
        Assert.Equal(1, chains.Count(c => c.StartsWith("KUBE-SEP-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_service_without_endpoints_is_refused_at_once()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 0);
        using var proxier = Proxier(new NetnsIptables(lab.Node));

        await proxier.SyncAsync(Desired([]), _deadline.Token);

        string answer = Assert.Single(await lab.ConnectAsync(ClusterIp, ServicePort, 1));
        Assert.StartsWith("refused ", answer, StringComparison.Ordinal);
        double seconds = double.Parse(answer["refused ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(seconds < 1, $"refused after {seconds} s, not at once");
    }

    [Fact]
    public async Task A_full_sync_deletes_chains_a_previous_run_left_and_keeps_the_jumps_single()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 1);
        var iptables = new NetnsIptables(lab.Node);
        using (var previousRun = Proxier(iptables))
        {
            await previousRun.SyncAsync(Desired(lab.EndpointIps), _deadline.Token);
        }

        // A restarted proxy that no longer has the service: its first sync is a full one and finds the old chains.
        using var proxier = Proxier(iptables);
        await proxier.SyncAsync([], _deadline.Token);

        var chains = await iptables.ListChainsAsync("nat", _deadline.Token);
        Assert.DoesNotContain(chains, c => c.StartsWith("KUBE-SVC-", StringComparison.Ordinal) || c.StartsWith("KUBE-SEP-", StringComparison.Ordinal));
        var save = await Testing.ChildProcess.RunAsync("ip", ["netns", "exec", lab.Node, "iptables-save", "-t", "nat"]);
        Assert.Equal(1, save.EnsureSuccess("iptables-save").Stdout.Split('\n').Count(l => l.StartsWith("-A PREROUTING", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Rules_are_never_written_outside_a_namespace_that_exists()
    {
        Assert.Throws<ArgumentException>(() => new NetnsIptables(""));
        Assert.Throws<ArgumentException>(() => new NetnsIptables("../host"));

        var missing = new NetnsIptables($"sbpx{Guid.NewGuid().ToString("N")[..6]}-absent");
        await Assert.ThrowsAsync<InvalidOperationException>(() => missing.RestoreAsync("*nat\nCOMMIT\n"u8.ToArray(), _deadline.Token));
    }

    public void Dispose() => _deadline.Dispose();

    private static IptablesProxier Proxier(NetnsIptables iptables) =>
        new(iptables, new IptablesOptions { ClusterCidr = ServiceNetworkLab.PodCidr }, NullLogger<IptablesProxier>.Instance, TimeProvider.System);

    private static IReadOnlyList<ServicePortState> Desired(IEnumerable<string> endpointIps)
    {
        var service = Service("lab", "web", ClusterIp, Port("http", ServicePort));
        V1EndpointSlice slice = Slice("lab", "web", "http", ServiceNetworkLab.EndpointPort, [.. endpointIps.Select(Ready)]);
        return ServicePortStates.From(service, [slice]);
    }
}
