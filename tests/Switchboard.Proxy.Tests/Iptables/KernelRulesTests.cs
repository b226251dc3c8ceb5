using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Tests.Support;
using static Switchboard.Proxy.Tests.Support.LabServices;

namespace Switchboard.Proxy.Tests.Iptables;

/// <summary>The rendered rules applied to real kernel netfilter inside throwaway namespaces, with real connections.</summary>
public sealed class KernelRulesTests : IDisposable
{
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));

    [Fact]
    public async Task Connections_spread_over_all_endpoints_and_follow_3_to_5_to_1_in_one_partial_sync_each()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 5);
        var iptables = new NetnsIptables(lab.Node);
        using var proxier = Proxier(iptables);

        var first = await proxier.SyncAsync(Desired(lab.EndpointIps.Take(3)), _deadline.Token);
        Assert.True(first.Full);
        EvenSpread.Assert(lab.EndpointNames.Take(3).ToList(), await lab.ConnectAsync(ClusterIp, ServicePort, 300));

        // 3 → 5: one partial sync rewrites this service's chains only.
        var second = await proxier.SyncAsync(Desired(lab.EndpointIps), _deadline.Token);
        Assert.False(second.Full);
        Assert.Equal(1, second.ChangedServicePorts);
        EvenSpread.Assert(lab.EndpointNames, await lab.ConnectAsync(ClusterIp, ServicePort, 500));

        // 5 → 1: one partial sync, and the four stale endpoint chains are gone.
        var third = await proxier.SyncAsync(Desired([lab.EndpointIps[1]]), _deadline.Token);
        Assert.False(third.Full);
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

}
