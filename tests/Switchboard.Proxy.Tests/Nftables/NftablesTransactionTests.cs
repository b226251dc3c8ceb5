using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Nftables;
using Switchboard.Proxy.Tests.Support;
using Switchboard.Testing;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Nftables;

/// <summary>
/// What the kernel holds after our netlink transactions, as <c>nft list table ip kube-proxy</c> prints it, for a fixed
/// set of services: compared with golden files, so the bytes we send are checked by the kernel and read back by nft.
/// And what one transaction carries when one service changes among many.
/// </summary>
public sealed class NftablesTransactionTests : IAsyncLifetime
{
    private readonly string _namespace = $"sbnf{Guid.NewGuid().ToString("N")[..6]}-golden";
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(1));

    public async Task InitializeAsync() =>
        (await ChildProcess.RunAsync("ip", ["netns", "add", _namespace])).EnsureSuccess($"ip netns add {_namespace}");

    [Fact]
    public void Chain_names_are_kube_proxys()
    {
        // pkg/proxy/nftables/proxier.go's example for ns1/svc1:p80 (the firewall chain's name).
        Assert.Equal("ULMVA6XW-ns1/svc1/tcp/p80", NftablesNames.ServicePortBase("ns1/svc1:p80", "tcp"));
    }

    [Fact]
    public async Task A_full_sync_programs_the_data_map_layout()
    {
        using var proxier = Proxier();
        var result = await proxier.SyncAsync(Initial(), _deadline.Token);

        Assert.True(result.Full);
        GoldenFile.AssertMatches("nftables-full-sync.nft", await ListAsync());
    }

    [Fact]
    public async Task A_partial_sync_leaves_the_table_as_a_full_sync_of_the_same_services_would()
    {
        using var proxier = Proxier();
        await proxier.SyncAsync(Initial(), _deadline.Token);
        var partial = await proxier.SyncAsync(Changed(), _deadline.Token);
        string afterPartial = await ListAsync();

        using var fresh = Proxier();
        await fresh.SyncAsync(Changed(), _deadline.Token);

        Assert.False(partial.Full);
        Assert.Equal(4, partial.ChangedServicePorts);
        GoldenFile.AssertMatches("nftables-partial-sync.nft", afterPartial);
        // Chains and elements list in the order they were made; what they hold must be the same.
        Assert.Equal(Normalized(await ListAsync()), Normalized(afterPartial));
    }

    [Fact]
    public async Task A_one_service_change_among_many_sends_only_its_changed_elements_and_no_rule()
    {
        var many = Enumerable.Range(0, 500).SelectMany(i => ServicePortStates.From(
            Service("bulk", $"svc{i}", $"172.30.{i / 200}.{(i % 200) + 1}", Port("http", 80)),
            [Slice("bulk", $"svc{i}", "http", 8080, Ready($"10.181.{i / 200}.{(i % 200) + 1}"), Ready($"10.182.{i / 200}.{(i % 200) + 1}"))])).ToList();
        using var proxier = Proxier();
        await proxier.SyncAsync(many, _deadline.Token);

        // svc7 loses one endpoint and gains another.
        many[7] = Assert.Single(ServicePortStates.From(Service("bulk", "svc7", "172.30.0.8", Port("http", 80)),
            [Slice("bulk", "svc7", "http", 8080, Ready("10.181.0.8"), Ready("10.183.0.8"))]));
        var result = await proxier.SyncAsync(many, _deadline.Token);

        Assert.False(result.Full);
        Assert.Equal(1, result.ChangedServicePorts);
        // The canary, then its second endpoint's element in the endpoints map, and the hairpin pair of the address that went and came.
        Assert.Equal(
            [
                (NftOperation.NewChain, NftablesLayout.Services),
                (NftOperation.DelSetElem, NftablesLayout.Endpoints), (NftOperation.DelSetElem, NftablesLayout.Hairpin),
                (NftOperation.NewSetElem, NftablesLayout.Endpoints), (NftOperation.NewSetElem, NftablesLayout.Hairpin),
            ],
            proxier.LastBatch.Messages);
        Assert.True(result.Bytes < 1024, $"a one-service transaction is {result.Bytes} bytes");
        string listing = await ListAsync();
        Assert.Contains("172.30.0.8 . tcp . 80 . 0x00000002 : 10.183.0.8 . 8080", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("10.182.0.8 ", listing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_gaining_an_endpoint_changes_class_and_the_unused_class_goes()
    {
        using var proxier = Proxier();
        await proxier.SyncAsync(Initial(), _deadline.Token);
        // svc4 goes from 1 endpoint to 2: it joins svc6's class (svc1's has affinity), and class 1 has no service left.
        var grown = Initial().ToList();
        grown[3] = Assert.Single(ServicePortStates.From(Service("ns4", "svc4", "172.30.0.44", Port("p80", 80)), [Slice("ns4", "svc4", "p80", 80, Ready("10.180.0.41"), Ready("10.180.0.42"))]));

        var result = await proxier.SyncAsync(grown, _deadline.Token);

        Assert.False(result.Full);
        Assert.DoesNotContain(proxier.LastBatch.Messages, m => m.Operation == NftOperation.NewRule && m.Object != "cluster-ips-dnat");
        Assert.Contains((NftOperation.DelSet, "cluster-ips-1"), proxier.LastBatch.Messages);
        string afterPartial = await ListAsync();
        using var fresh = Proxier();
        await fresh.SyncAsync(grown, _deadline.Token);
        Assert.Equal(Normalized(await ListAsync()), Normalized(afterPartial));
        Assert.Contains("set cluster-ips-2 {", afterPartial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_transaction_names_the_message_and_the_errno_and_the_next_sync_is_full()
    {
        using var proxier = Proxier();
        await proxier.SyncAsync(Initial(), _deadline.Token);
        // Someone deletes our table behind our back: the partial sync's first flush finds no table.
        (await ChildProcess.RunAsync("ip", ["netns", "exec", _namespace, "nft", "delete", "table", "ip", "kube-proxy"])).EnsureSuccess("nft delete table");

        var error = await Assert.ThrowsAsync<NftablesException>(() => proxier.SyncAsync(Changed(), _deadline.Token));
        Assert.Contains("ENOENT", error.Message, StringComparison.Ordinal);
        Assert.Contains("DelSetElem kube-proxy ", error.Message, StringComparison.Ordinal);

        var repaired = await proxier.SyncAsync(Changed(), _deadline.Token);
        Assert.True(repaired.Full);
        // The same contents as after the partial sync; a full sync makes them in another order.
        string golden = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "nftables-partial-sync.nft"));
        Assert.Equal(Normalized(golden), Normalized(await ListAsync()));
    }

    [Fact]
    public async Task A_table_deleted_behind_our_back_is_found_by_the_next_sync_without_a_change_and_rebuilt()
    {
        using var proxier = Proxier();
        await proxier.SyncAsync(Initial(), _deadline.Token);
        string programmed = await ListAsync();
        (await ChildProcess.RunAsync("ip", ["netns", "exec", _namespace, "nft", "flush", "ruleset"])).EnsureSuccess("nft flush ruleset");

        // The periodic sync, nothing changed: its canary finds the table gone.
        var error = await Assert.ThrowsAsync<NftablesException>(() => proxier.SyncAsync(Initial(), _deadline.Token));
        Assert.Contains("ENOENT", error.Message, StringComparison.Ordinal);

        var repaired = await proxier.SyncAsync(Initial(), _deadline.Token);
        Assert.True(repaired.Full);
        Assert.Equal(Normalized(programmed), Normalized(await ListAsync()));
    }

    public async Task DisposeAsync()
    {
        _deadline.Dispose();
        await ChildProcess.RunAsync("ip", ["netns", "delete", _namespace]);
    }

    /// <summary>
    /// ns1/svc1 with 2 endpoints and ClientIP affinity; ns2/svc2 with 3 endpoints and a NodePort; ns3/svc3 (UDP) with
    /// none; ns4/svc4 with 1; ns6/svc6 a LoadBalancer with an external IP, externalTrafficPolicy Local (one endpoint
    /// on this node, one elsewhere) and loadBalancerSourceRanges.
    /// </summary>
    internal static IReadOnlyList<ServicePortState> Initial() =>
    [
        .. ServicePortStates.From(Affinity(Service("ns1", "svc1", "172.30.0.41", Port("p80", 80)), 10800), [Slice("ns1", "svc1", "p80", 80, Ready("10.180.0.1"), Ready("10.180.0.2"))]),
        .. ServicePortStates.From(NodePortService("ns2", "svc2", "172.30.0.42", Port("http", 80, nodePort: 30080)), [Slice("ns2", "svc2", "http", 8080, Ready("10.180.0.21"), Ready("10.180.0.22"), Ready("10.180.0.23"))]),
        .. ServicePortStates.From(Service("ns3", "svc3", "172.30.0.43", Port(null, 53, "UDP")), []),
        .. ServicePortStates.From(Service("ns4", "svc4", "172.30.0.44", Port("p80", 80)), [Slice("ns4", "svc4", "p80", 80, Ready("10.180.0.41"))]),
        .. ServicePortStates.From(LocalLoadBalancer("ns6", "svc6", "172.30.0.46", 30006, "192.0.2.6", "198.51.100.6", "203.0.113.0/25", "10.0.0.0/8"), [Slice("ns6", "svc6", "p80", 80, Local("10.180.0.61"), Ready("10.180.0.62"))], NodeName),
    ];

    /// <summary>svc1 and svc6 are untouched; svc2 goes from 3 endpoints to 1 (one kept); svc3 gets its first endpoint; svc4 is deleted; svc5 is new.</summary>
    internal static IReadOnlyList<ServicePortState> Changed() =>
    [
        Initial()[0],
        .. ServicePortStates.From(NodePortService("ns2", "svc2", "172.30.0.42", Port("http", 80, nodePort: 30080)), [Slice("ns2", "svc2", "http", 8080, Ready("10.180.0.22"))]),
        .. ServicePortStates.From(Service("ns3", "svc3", "172.30.0.43", Port(null, 53, "UDP")), [Slice("ns3", "svc3", null, 5353, "UDP", Ready("10.180.0.31"))]),
        .. ServicePortStates.From(Service("ns5", "svc5", "172.30.0.45", Port("p80", 80)), [Slice("ns5", "svc5", "p80", 80, Ready("10.180.0.51"))]),
        Initial()[4],
    ];

    private static k8s.Models.V1Service Affinity(k8s.Models.V1Service service, int seconds)
    {
        service.Spec.SessionAffinity = "ClientIP";
        service.Spec.SessionAffinityConfig = new k8s.Models.V1SessionAffinityConfig { ClientIP = new k8s.Models.V1ClientIPConfig { TimeoutSeconds = seconds } };
        return service;
    }

    /// <summary>The listing's lines sorted, each map's elements sorted within it.</summary>
    private static string[] Normalized(string listing)
    {
        string joined = listing.Replace(",\n\t\t\t     ", ", ", StringComparison.Ordinal);
        return [.. joined.Split('\n').Select(line =>
        {
            int open = line.IndexOf("elements = { ", StringComparison.Ordinal);
            return open < 0 ? line : "elements " + string.Join(", ", line[(open + 13)..^2].Split(", ").Order(StringComparer.Ordinal));
        }).Order(StringComparer.Ordinal)];
    }

    private NftablesProxier Proxier() => new(_namespace, "10.180.0.0/16", NullLogger<NftablesProxier>.Instance, TimeProvider.System);

    private async Task<string> ListAsync() =>
        (await ChildProcess.RunAsync("ip", ["netns", "exec", _namespace, "nft", "list", "table", "ip", "kube-proxy"])).EnsureSuccess("nft list table").Stdout;
}
