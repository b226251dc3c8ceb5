using System.Globalization;
using Switchboard.Testing;

namespace Switchboard.Proxy.Tests.Support;

/// <summary>
/// A throwaway node: a "node" network namespace holding a bridge, endpoint namespaces on veths each running a TCP
/// server that answers its own name, and a client namespace. Everything carries a per-test prefix and is removed
/// on dispose, also when the test (or the setup) fails. Addresses exist only inside these namespaces.
/// </summary>
internal sealed class ServiceNetworkLab : IAsyncDisposable
{
    public const string PodCidr = "10.250.0.0/24";
    public const int EndpointPort = 8080;
    private const string Gateway = "10.250.0.1";

    // Answers its name on TCP (then closes) and on UDP (one datagram per datagram), both on the same port.
    private const string ServerScript = """
        import socket, sys, threading
        name = sys.argv[1].encode()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", int(sys.argv[2])))
        def udp():
            while True:
                _, peer = u.recvfrom(64)
                u.sendto(name, peer)
        threading.Thread(target=udp, daemon=True).start()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(sys.argv[2])))
        s.listen(512)
        print("listening", flush=True)
        while True:
            c, _ = s.accept()
            c.sendall(name)
            c.close()
        """;

    // One line per connection: the name that answered, or "refused SECONDS", or "error WHAT".
    private const string ClientScript = """
        import socket, sys, time
        ip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        for _ in range(count):
            start = time.monotonic()
            try:
                with socket.create_connection((ip, port), timeout=5) as c:
                    print(c.recv(64).decode() or "empty", flush=True)
            except ConnectionRefusedError:
                print("refused %.3f" % (time.monotonic() - start), flush=True)
            except OSError as e:
                print("error %s" % e, flush=True)
        """;

    // One datagram per line from one fixed source port, so every datagram belongs to the same conntrack entry.
    private const string UdpClientScript = """
        import socket, sys
        ip, port, source, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            u.bind(("0.0.0.0", source))
            u.settimeout(2)
            for _ in range(count):
                u.sendto(b"who", (ip, port))
                try:
                    print(u.recv(64).decode(), flush=True)
                except OSError as e:
                    print("error %s" % e, flush=True)
        """;

    private readonly List<string> _namespaces = [];
    private readonly List<RunningProcess> _servers = [];

    private readonly string _prefix;

    private ServiceNetworkLab(string prefix)
    {
        _prefix = prefix;
        Node = $"{prefix}-node";
        Client = $"{prefix}-client";
    }

    /// <summary>The node's address on the bridge, where its NodePorts answer.</summary>
    public static string NodeIp => Gateway;

    /// <summary>The node namespace, where the proxy's rules go.</summary>
    public string Node { get; }

    public string Client { get; }

    /// <summary>The endpoints' namespace names, which are also what their servers answer.</summary>
    public List<string> EndpointNames { get; } = [];

    public List<string> EndpointIps { get; } = [];

    public static async Task<ServiceNetworkLab> CreateAsync(int endpoints)
    {
        var lab = new ServiceNetworkLab($"sbpx{Guid.NewGuid().ToString("N")[..6]}");
        try
        {
            await lab.BuildAsync(endpoints);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Connects <paramref name="count"/> times, one new connection each, from the client namespace (or <paramref name="from"/>).</summary>
    public Task<string[]> ConnectAsync(string ip, int port, int count, string? from = null) =>
        RunClientAsync(from ?? Client, ClientScript, ip, port, count);

    /// <summary>Sends <paramref name="count"/> datagrams from the client namespace's UDP port <paramref name="sourcePort"/>; one answer (or error) per line.</summary>
    public Task<string[]> SendUdpAsync(string ip, int port, int sourcePort, int count) =>
        RunClientAsync(Client, UdpClientScript, ip, port, sourcePort, count);

    private static async Task<string[]> RunClientAsync(string ns, string script, string ip, params int[] numbers)
    {
        var result = await ChildProcess.RunAsync("ip", ["netns", "exec", ns, "python3", "-c", script, ip, .. numbers.Select(n => n.ToString(CultureInfo.InvariantCulture))]);
        result.EnsureSuccess("client");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        foreach (string ns in _namespaces)
        {
            await ChildProcess.RunAsync("ip", ["netns", "delete", ns]);
        }
    }

    private async Task BuildAsync(int endpoints)
    {
        await AddNamespaceAsync(Node);
        await IpAsync(Node, "link", "set", "lo", "up");
        await IpAsync(Node, "link", "add", "br0", "type", "bridge");
        await IpAsync(Node, "addr", "add", $"{Gateway}/24", "dev", "br0");
        await IpAsync(Node, "link", "set", "br0", "up");
        // A default route, as a node has, so a packet no rule DNATs (to a cluster IP without endpoints, or to a
        // load-balancer IP from outside its source ranges) reaches filter FORWARD and its REJECT or DROP instead of
        // failing the route lookup. It leads back out of br0, so no ICMP redirects: they would use up the per-host
        // ICMP rate limit and swallow the REJECT's port-unreachable.
        await IpAsync(Node, "route", "add", "default", "dev", "br0");
        (await ChildProcess.RunAsync("ip", ["netns", "exec", Node, "sysctl", "-qw",
            "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1",
            "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.br0.send_redirects=0"]))
            .EnsureSuccess("sysctl in the node namespace");

        for (int i = 0; i < endpoints; i++)
        {
            string name = $"{_prefix}-ep{i}";
            string ip = $"10.250.0.{10 + i}";
            await AddPodAsync(name, ip, $"v{i}");
            EndpointNames.Add(name);
            EndpointIps.Add(ip);
            await StartServerAsync(name);
        }

        await AddPodAsync(Client, "10.250.0.100", "vc");
    }

    private async Task AddPodAsync(string pod, string ip, string hostSide)
    {
        await AddNamespaceAsync(pod);
        await IpAsync(Node, "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", pod);
        await IpAsync(Node, "link", "set", hostSide, "master", "br0", "up");
        // Hairpin, as kubelet's --hairpin-mode: a pod's packet DNATed back to itself leaves through the port it came in by.
        (await ChildProcess.RunAsync("ip", ["netns", "exec", Node, "bridge", "link", "set", "dev", hostSide, "hairpin", "on"])).EnsureSuccess("bridge hairpin");
        await IpAsync(pod, "addr", "add", $"{ip}/24", "dev", "eth0");
        await IpAsync(pod, "link", "set", "eth0", "up");
        await IpAsync(pod, "link", "set", "lo", "up");
        await IpAsync(pod, "route", "add", "default", "via", Gateway);
    }

    private async Task AddNamespaceAsync(string ns)
    {
        (await ChildProcess.RunAsync("ip", ["netns", "add", ns])).EnsureSuccess($"ip netns add {ns}");
        _namespaces.Add(ns);
    }

    private async Task StartServerAsync(string ns)
    {
        var server = RunningProcess.Start("ip", ["netns", "exec", ns, "python3", "-u", "-c", ServerScript, ns, EndpointPort.ToString(CultureInfo.InvariantCulture)]);
        _servers.Add(server);
        await server.WaitForLineAsync(line => line == "listening", $"the server in {ns} to listen");
    }

    private static async Task IpAsync(string ns, params string[] args) =>
        (await ChildProcess.RunAsync("ip", ["-n", ns, .. args])).EnsureSuccess($"ip -n {ns} {string.Join(' ', args)}");
}
