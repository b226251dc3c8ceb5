using System.Globalization;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Nftables;
using Switchboard.Proxy.Tests.Support;
using Switchboard.Testing;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Nftables;

/// <summary>nftables mode programmed into real kernel netfilter inside throwaway namespaces, with real connections.</summary>
public sealed class NftablesKernelTests : IDisposable
{
    private const string ClusterIp = "10.96.77.20";
    private const int ServicePort = 80;
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));

    [Fact]
    public async Task Connections_spread_over_3_then_5_then_1_endpoints_each_change_in_one_sync()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 5);
        using var proxier = Proxier(lab);

        var first = await proxier.SyncAsync(Desired(lab.EndpointIps.Take(3)), _deadline.Token);
        Assert.True(first.Full);
        EvenSpread.Assert(lab.EndpointNames.Take(3).ToList(), await lab.ConnectAsync(ClusterIp, ServicePort, 300));

        var five = await proxier.SyncAsync(Desired(lab.EndpointIps), _deadline.Token);
        Assert.False(five.Full);
        Assert.Equal(1, five.ChangedServicePorts);
        EvenSpread.Assert(lab.EndpointNames, await lab.ConnectAsync(ClusterIp, ServicePort, 300));

        var one = await proxier.SyncAsync(Desired([lab.EndpointIps[4]]), _deadline.Token);
        Assert.False(one.Full);
        Assert.Equal(1, one.ChangedServicePorts);
        string[] after = await lab.ConnectAsync(ClusterIp, ServicePort, 30);
        Assert.All(after, answer => Assert.Equal(lab.EndpointNames[4], answer));
        string listing = await ListAsync(lab);
        // The endpoints map holds one element for the service; the rules of classes 3 and 5 went with their last service.
        Assert.Equal(1, listing.Split(ClusterIp + " . tcp . 80 . 0x", StringSplitOptions.None).Length - 1);
        Assert.Contains("numgen random mod 1 offset 1", Assert.Single(listing.Split('\n'), l => l.Contains("numgen random mod", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_without_endpoints_is_refused_at_once()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 0);
        using var proxier = Proxier(lab);

        await proxier.SyncAsync(Desired([]), _deadline.Token);

        string answer = Assert.Single(await lab.ConnectAsync(ClusterIp, ServicePort, 1));
        Assert.StartsWith("refused ", answer, StringComparison.Ordinal);
        double seconds = double.Parse(answer["refused ".Length..], CultureInfo.InvariantCulture);
        Assert.True(seconds < 1, $"refused after {seconds} s, not at once");
    }

    [Fact]
    public async Task Client_IP_affinity_pins_a_client_to_one_endpoint()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        using var proxier = Proxier(lab);

        await proxier.SyncAsync(Desired(lab.EndpointIps, affinitySeconds: 60), _deadline.Token);

        string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 30);
        Assert.Contains(answers[0], lab.EndpointNames);
        Assert.All(answers, answer => Assert.Equal(answers[0], answer));
    }

    [Fact]
    public async Task The_rules_view_shows_each_endpoint_element_the_kernel_holds_with_its_endpoint()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        using var proxier = Proxier(lab);
        var desired = Desired(lab.EndpointIps);
        await proxier.SyncAsync(desired, _deadline.Token);
        var rules = new Switchboard.Proxy.Rules.ProgrammedRules(ProxyMode.Nftables, new Switchboard.Proxy.Iptables.IptablesOptions());
        rules.Applied(desired);

        var port = Assert.Single(rules.Describe("lab", "web")["ports"]!.AsArray())!;
        Assert.Equal(("nftables", "lab/web:http", ClusterIp), ((string?)rules.Describe("lab", "web")["mode"], (string?)port["name"], (string?)port["clusterIP"]));
        var toEndpoints = port["rules"]!.AsArray().Where(r => (string?)r!["endpoint"] is not null).ToList();
        Assert.Equal(lab.EndpointIps.Select(ip => $"{ip}:{ServiceNetworkLab.EndpointPort}").Order(), toEndpoints.Select(r => (string)r!["endpoint"]!).Order());
        string listing = await ListAsync(lab);
        foreach (var rule in toEndpoints)
        {
            // "element ip kube-proxy endpoints { 10.96.77.20 . tcp . 80 . 2 : 10.0.0.3 . 8080 }": the kernel lists the same key and endpoint.
            Assert.StartsWith("element ip kube-proxy endpoints { " + ClusterIp + " . tcp . 80 . ", (string)rule!["rule"]!, StringComparison.Ordinal);
            string endpoint = ((string)rule["endpoint"]!).Replace(":", " . ", StringComparison.Ordinal);
            Assert.Contains(": " + endpoint, listing, StringComparison.Ordinal);
        }

        Assert.Contains(port["rules"]!.AsArray(), r => (string?)r!["chain"] == "cluster-ips" && ((string)r["rule"]!).Contains(ClusterIp + " . tcp . 80", StringComparison.Ordinal));
        Assert.Empty(rules.Describe("lab", "other")["ports"]!.AsArray());
    }

    public void Dispose() => _deadline.Dispose();

    private static NftablesProxier Proxier(ServiceNetworkLab lab) =>
        new(lab.Node, ServiceNetworkLab.PodCidr, NullLogger<NftablesProxier>.Instance, TimeProvider.System);

    private static async Task<string> ListAsync(ServiceNetworkLab lab) =>
        (await ChildProcess.RunAsync("ip", ["netns", "exec", lab.Node, "nft", "list", "table", "ip", "kube-proxy"])).EnsureSuccess("nft list table").Stdout;

    private static IReadOnlyList<ServicePortState> Desired(IEnumerable<string> endpointIps, int affinitySeconds = 0)
    {
        var service = Service("lab", "web", ClusterIp, Port("http", ServicePort));
        if (affinitySeconds > 0)
        {
            service.Spec.SessionAffinity = "ClientIP";
            service.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = affinitySeconds } };
        }

        V1EndpointSlice slice = Slice("lab", "web", "http", ServiceNetworkLab.EndpointPort, [.. endpointIps.Select(Ready)]);
        return ServicePortStates.From(service, [slice]);
    }
}
