using System.Globalization;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Tests.Support;
using Switchboard.Proxy.Userspace;
using Switchboard.Testing;
using static Switchboard.Proxy.Tests.Support.ProxyObjects;

namespace Switchboard.Proxy.Tests.Userspace;

/// <summary>The userspace proxier relaying real connections inside throwaway namespaces: clients in a pod, endpoints in pods.</summary>
public sealed class UserspaceProxierTests : IDisposable
{
    private const string ClusterIp = "10.96.77.20";
    private const int ServicePort = 80;
    private const int NodePort = 30080;

    // Answers every datagram with the name of its namespace, from one socket.
    private const string UdpServerScript = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", int(sys.argv[2])))
        print("listening", flush=True)
        while True:
            data, client = s.recvfrom(2048)
            s.sendto(sys.argv[1].encode(), client)
        """;

    // One socket for its whole life (a resolver's), a datagram every 50 ms; prints each answer, or "timeout".
    private const string UdpClientScript = """
        import socket, sys, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        s.connect((sys.argv[1], int(sys.argv[2])))
        while True:
            try:
                s.send(b"hostname")
                print(s.recv(64).decode(), flush=True)
            except OSError as e:
                print("error %s" % e, flush=True)
            time.sleep(0.05)
        """;

    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromMinutes(2));

    [Fact]
    public async Task Connections_spread_over_all_endpoints_within_chi_square_bounds_also_through_the_node_port()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        using var proxier = Proxier(lab);

        var first = await proxier.SyncAsync(Desired(lab.EndpointIps, nodePort: NodePort), _deadline.Token);
        Assert.True(first.Full);

        EvenSpread.Assert(lab.EndpointNames, await lab.ConnectAsync(ClusterIp, ServicePort, 300));

        string[] viaNodePort = await lab.ConnectAsync(ServiceNetworkLab.NodeIp, NodePort, 30);
        Assert.Equal(lab.EndpointNames.ToHashSet(), viaNodePort.ToHashSet());
    }

    [Fact]
    public async Task Going_from_3_to_5_to_1_endpoints_changes_the_spread_within_one_partial_sync()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 5);
        using var proxier = Proxier(lab);

        foreach (int count in (int[])[3, 5, 1])
        {
            var result = await proxier.SyncAsync(Desired(lab.EndpointIps.Take(count)), _deadline.Token);
            Assert.Equal(count != 3, !result.Full);
            Assert.Equal(1, result.ChangedServicePorts);

            // Round robin: 30 connections reach every endpoint of the set, and no other.
            string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 30);
            Assert.Equal(lab.EndpointNames.Take(count).ToHashSet(), answers.ToHashSet());
        }

        var unchanged = await proxier.SyncAsync(Desired(lab.EndpointIps.Take(1)), _deadline.Token);
        Assert.Equal(0, unchanged.ChangedServicePorts);
    }

    [Fact]
    public async Task A_service_without_endpoints_is_refused_at_once_and_served_once_it_has_one()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 1);
        using var proxier = Proxier(lab);

        await proxier.SyncAsync(Desired([]), _deadline.Token);

        string answer = Assert.Single(await lab.ConnectAsync(ClusterIp, ServicePort, 1));
        Assert.StartsWith("refused ", answer, StringComparison.Ordinal);
        double seconds = double.Parse(answer["refused ".Length..], CultureInfo.InvariantCulture);
        Assert.True(seconds < 1, $"refused after {seconds} s, not at once");

        await proxier.SyncAsync(Desired(lab.EndpointIps), _deadline.Token);
        Assert.Equal(lab.EndpointNames[0], Assert.Single(await lab.ConnectAsync(ClusterIp, ServicePort, 1)));
    }

    [Fact]
    public async Task Session_affinity_pins_a_client_to_one_endpoint()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 3);
        using var proxier = Proxier(lab);

        var service = Service("lab", "web", ClusterIp, Port("http", ServicePort));
        service.Spec.SessionAffinity = "ClientIP";
        service.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = 60 } };
        await proxier.SyncAsync(ServicePortStates.From(service, [Slice(lab.EndpointIps)]), _deadline.Token);

        string[] answers = await lab.ConnectAsync(ClusterIp, ServicePort, 30);
        Assert.Single(answers.Distinct());
        Assert.Contains(answers[0], lab.EndpointNames);
    }

    [Fact]
    public async Task A_UDP_client_whose_endpoint_is_removed_moves_to_a_live_one_on_the_same_socket()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 2);
        using var servers = new ProcessGroup();
        foreach (string endpoint in lab.EndpointNames)
        {
            var server = servers.Start("ip", ["netns", "exec", endpoint, "python3", "-u", "-c", UdpServerScript, endpoint, UdpPort.ToString(CultureInfo.InvariantCulture)]);
            await server.WaitForLineAsync(line => line == "listening", $"the UDP server in {endpoint} to listen");
        }

        using var proxier = Proxier(lab);
        await proxier.SyncAsync(UdpDesired(lab.EndpointIps), _deadline.Token);

        var client = servers.Start("ip", ["netns", "exec", lab.Client, "python3", "-u", "-c", UdpClientScript, ClusterIp, UdpPort.ToString(CultureInfo.InvariantCulture)]);
        string first = await client.WaitForLineAsync(lab.EndpointNames.Contains, "an answer from an endpoint");
        string other = lab.EndpointNames.Single(name => name != first);

        // The endpoint that answered goes away: the client's flow (same socket, same source port) moves to the other.
        await proxier.SyncAsync(UdpDesired([lab.EndpointIps[lab.EndpointNames.IndexOf(other)]]), _deadline.Token);
        await client.WaitForLineAsync(line => line == other, $"an answer from {other} after {first} was removed", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Cluster_IPs_are_added_for_services_and_removed_with_them_also_those_a_previous_run_left()
    {
        await using var lab = await ServiceNetworkLab.CreateAsync(endpoints: 1);
        using (var previousRun = Proxier(lab))
        {
            await previousRun.SyncAsync(Desired(lab.EndpointIps), _deadline.Token);
            Assert.Contains(ClusterIp, await VipsAsync(lab));
        }

        // A restarted proxy that serves another service: its first, full, sync removes the address the last run left.
        using var proxier = Proxier(lab);
        var other = ServicePortStates.From(Service("lab", "other", "10.96.77.21", Port(null, 81)), []);
        await proxier.SyncAsync(other, _deadline.Token);
        Assert.Equal(["10.96.77.21"], await VipsAsync(lab));

        await proxier.SyncAsync([], _deadline.Token);
        Assert.Empty(await VipsAsync(lab));
    }

    public void Dispose() => _deadline.Dispose();

    private const int UdpPort = 53;

    private static UserspaceProxier Proxier(ServiceNetworkLab lab) =>
        new(lab.Node, new UserspaceOptions(), NullLogger<UserspaceProxier>.Instance, TimeProvider.System);

    private static IReadOnlyList<ServicePortState> Desired(IEnumerable<string> endpointIps, int? nodePort = null) =>
        ServicePortStates.From(
            nodePort is null ? Service("lab", "web", ClusterIp, Port("http", ServicePort)) : NodePortService("lab", "web", ClusterIp, Port("http", ServicePort, nodePort: nodePort)),
            [Slice(endpointIps)]);

    private static IReadOnlyList<ServicePortState> UdpDesired(IEnumerable<string> endpointIps) =>
        ServicePortStates.From(
            Service("lab", "dns", ClusterIp, Port("dns", UdpPort, "UDP")),
            [ProxyObjects.Slice("lab", "dns", "dns", UdpPort, "UDP", [.. endpointIps.Select(Ready)])]);

    private static V1EndpointSlice Slice(IEnumerable<string> endpointIps) =>
        ProxyObjects.Slice("lab", "web", "http", ServiceNetworkLab.EndpointPort, [.. endpointIps.Select(Ready)]);

    private static async Task<string[]> VipsAsync(ServiceNetworkLab lab)
    {
        var result = await ChildProcess.RunAsync("ip", ["-n", lab.Node, "-o", "-4", "addr", "show", "dev", "lo", "label", ClusterIpAddresses.Label]);
        return [.. result.EnsureSuccess("ip addr show").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3].Split('/')[0])];
    }

    /// <summary>Programs a test starts, all killed on dispose.</summary>
    private sealed class ProcessGroup : IDisposable
    {
        private readonly List<RunningProcess> _processes = [];

        public RunningProcess Start(string program, IEnumerable<string> args)
        {
            var process = RunningProcess.Start(program, args);
            _processes.Add(process);
            return process;
        }

        public void Dispose()
        {
            foreach (var process in _processes)
            {
                process.Dispose();
            }
        }
    }
}
