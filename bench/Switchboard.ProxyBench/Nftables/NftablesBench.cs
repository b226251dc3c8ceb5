using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Kube.Netlink;
using Switchboard.Kube.Networking;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Nftables;

namespace Switchboard.ProxyBench.Nftables;

/// <summary>
/// nftables mode at 10,000 services × 3 endpoints in the script's node namespace: the full sync, the cost of a bare
/// commit, then one-service updates sent as our netlink transaction and, alternating in the same run, as the same
/// element changes written for stock <c>nft -f</c> (on other services, so our in-memory state stays true for ours);
/// then TCP connect latency from the client namespace to a service VIP against straight to a pod.
/// </summary>
internal static class NftablesBench
{
    private const string PodCidr = "10.250.0.0/24";
    private const int ServicePort = 80;

    public static async Task RunAsync(NftablesBenchOptions options, TextWriter output)
    {
        var listeners = new List<Socket>();
        foreach (string backend in options.Backends)
        {
            using var dialer = new NetnsDialer(backend);
            var listener = await dialer.CreateAsync(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Any, NftablesBenchOptions.BackendPort));
            listener.Listen(4096);
            listeners.Add(listener);
            _ = Task.Run(() => Serve(listener));
        }

        int probe = options.Services - 1;
        var desired = Enumerable.Range(0, options.Services).Select(i => i == probe
            ? Port(i, [.. options.BackendIps.Select(ip => (ip, NftablesBenchOptions.BackendPort))])
            : Port(i, [(Address(200, i), 8080), (Address(201, i), 8080), (Address(202, i), 8080)])).ToArray();

        using var proxier = new NftablesProxier(options.Node, PodCidr, NullLogger<NftablesProxier>.Instance, TimeProvider.System);
        var full = Stopwatch.StartNew();
        await proxier.SyncAsync(desired, CancellationToken.None);
        output.WriteLine($"services: {options.Services} × 3 endpoints");
        output.WriteLine($"full sync (one netlink transaction): {full.Elapsed.TotalMilliseconds:F0} ms, {proxier.LastBatch.Messages.Count} messages, {proxier.LastBatch.Bytes / 1048576.0:F1} MiB");

        var (element, rule) = CommitProbe(options.Node);
        output.WriteLine($"commit alone at {options.Services} services: one set element {element:F2} ms, one DNAT rule (table re-validated) {rule:F2} ms, medians");

        // Even services change through our proxier, odd ones through nft; the first of each warms up and is not counted.
        var ours = new List<double>();
        var stock = new List<double>();
        string file = Path.Combine(Path.GetTempPath(), $"switchboard-nft-{Environment.ProcessId}.nft");
        try
        {
            for (int u = 0; u <= options.Updates; u++)
            {
                int mine = 2 * u * (options.Services / (2 * (options.Updates + 1)));
                desired[mine] = Replaced(mine, desired[mine], 203);
                var watch = Stopwatch.StartNew();
                var result = await proxier.SyncAsync(desired, CancellationToken.None);
                double oursMs = watch.Elapsed.TotalMilliseconds;
                if (result.Full || result.ChangedServicePorts != 1)
                {
                    throw new InvalidOperationException($"update {u} was not a one-service partial sync: {result}");
                }

                int theirs = mine + 1;
                var before = proxier.Programmed(desired[theirs].ServiceChain)!;
                var replaced = Replaced(theirs, desired[theirs], 204);
                var after = new NftServicePort(replaced);
                await File.WriteAllTextAsync(file, StockTransaction(before, after));
                watch.Restart();
                await RunAsync("nsenter", [$"--net=/run/netns/{options.Node}", "nft", "-f", file]);
                double stockMs = watch.Elapsed.TotalMilliseconds;
                if (u > 0)
                {
                    ours.Add(oursMs);
                    stock.Add(stockMs);
                }
            }
        }
        finally
        {
            File.Delete(file);
        }

        output.WriteLine($"stock nft -f one-service transaction: median {Median(stock):F1} ms (min {stock.Min():F1}, max {stock.Max():F1}) over {stock.Count}");
        output.WriteLine($"switchboard one-service netlink transaction: median {Median(ours):F2} ms (min {ours.Min():F2}, max {ours.Max():F2}) over {ours.Count}");

        var probePort = desired[probe];
        var (vip, direct) = await ConnectLatenciesAsync(options, IPAddress.Parse(probePort.ClusterIp));
        output.WriteLine($"connect p50 from the client pod: VIP {vip * 1e6:F1} µs, direct to a pod {direct * 1e6:F1} µs, {options.Connects} each, alternating");
        output.WriteLine($"nftables one-service update at 10k services: {Median(ours):F1} ms");
        output.WriteLine($"nftables VIP connect p50 / direct connect p50 at 10k services: {vip / direct:F2}");
        listeners.ForEach(listener => listener.Dispose());
    }

    /// <summary>
    /// What the kernel's commit costs by itself: median time of a transaction adding one element to a set, against
    /// one adding a rule with a DNAT, after which nf_tables validates every chain reachable from the base chains
    /// (nft_table_validate). With kube-proxy's per-service chains the second cost ~100 ms at 10,000 services; in our
    /// layout there are no per-service chains left to walk. Probe objects of their own, removed afterwards.
    /// </summary>
    private static (double Element, double Rule) CommitProbe(string node)
    {
        using var socket = NetlinkSocket.Open(node, NetlinkSocket.NetlinkNetfilter);
        using var batch = new NftBatch(NftablesLayout.Table);
        var replies = new List<NetlinkReply>();
        uint sequence = 1u << 30;
        double Commit(Action<NftBatch> write)
        {
            var watch = Stopwatch.StartNew();
            batch.Begin(sequence, ackEach: true);
            write(batch);
            batch.End();
            sequence = batch.EndSequence + 1;
            batch.Commit(socket, node, replies);
            return watch.Elapsed.TotalMilliseconds;
        }

        Commit(b =>
        {
            b.AddChain("probe");
            b.AddSet("probe", NftTypes.Ipv4Address, 4);
        });
        var element = new List<double>();
        var rule = new List<double>();
        byte[] address = [10, 99, 0, 1];
        for (int i = 0; i < 21; i++)
        {
            element.Add(Commit(b => b.DataElement(NftOperation.NewSetElem, "probe", address, default)));
            Commit(b => b.DataElement(NftOperation.DelSetElem, "probe", address, default));
            rule.Add(Commit(b =>
            {
                b.BeginRule("probe");
                b.Immediate(NftBatch.Reg1, address);
                b.Immediate(NftBatch.Reg2, [0, 80]);
                b.Dnat(NftBatch.Reg1, NftBatch.Reg2);
                b.EndRule();
            }));
            Commit(b => b.FlushChain("probe"));
        }

        Commit(b =>
        {
            b.DeleteSet("probe");
            b.DeleteChain("probe");
        });
        return (Median(element), Median(rule));
    }

    private static ServicePortState Port(int index, (string Ip, int Port)[] endpoints)
    {
        string name = $"bench/svc{index}:http";
        return new ServicePortState(name, "tcp", Address(96, index), ServicePort, 0, 0,
            [.. endpoints.Select(ep => new ProxyEndpoint(name, "tcp", ep.Ip, ep.Port))]);
    }

    /// <summary>The same port with its first endpoint replaced by one in 10.<paramref name="net"/>.0.0/16.</summary>
    private static ServicePortState Replaced(int index, ServicePortState s, int net) =>
        new(s.Name, s.Protocol, s.ClusterIp, s.Port, s.NodePort, s.AffinitySeconds,
            [new ProxyEndpoint(s.Name, s.Protocol, Address(net, index), 8080), .. s.Endpoints[1..]]);

    private static string Address(int net, int index) => $"10.{net}.{1 + (index / 250)}.{1 + (index % 250)}";

    /// <summary>
    /// The same element changes as our partial sync sends for a replaced endpoint, in nft's language, as
    /// kube-proxy would run them (the odd services are changed this way, behind our proxier's back).
    /// </summary>
    private static string StockTransaction(NftServicePort before, NftServicePort after)
    {
        var t = new StringBuilder();
        var old = before.Elements.ToDictionary(e => e.Id);
        var current = after.Elements.ToDictionary(e => e.Id);
        foreach (var e in before.Elements.Where(e => !current.TryGetValue(e.Id, out var n) || !n.SameValue(e)))
        {
            t.Append(CultureInfo.InvariantCulture, $"delete element ip kube-proxy {e.Set} {{ {Key(e)} }}\n");
        }

        foreach (string ip in before.HairpinAddresses.Except(after.HairpinAddresses))
        {
            t.Append(CultureInfo.InvariantCulture, $"delete element ip kube-proxy {NftablesLayout.Hairpin} {{ {ip} . {ip} }}\n");
        }

        foreach (var e in after.Elements.Where(e => !old.TryGetValue(e.Id, out var o) || !o.SameValue(e)))
        {
            t.Append(CultureInfo.InvariantCulture, $"add element ip kube-proxy {e.Set} {{ {Key(e)} : {EndpointText(e.Data!)} }}\n");
        }

        foreach (string ip in after.HairpinAddresses.Except(before.HairpinAddresses))
        {
            t.Append(CultureInfo.InvariantCulture, $"add element ip kube-proxy {NftablesLayout.Hairpin} {{ {ip} . {ip} }}\n");
        }

        return t.ToString();

        // A one-service endpoint change touches only the endpoints map: address . proto . port . index : address . port.
        static string Key(NftElement e) => e.Set is NftablesLayout.Endpoints
            ? $"{new IPAddress(e.Key.AsSpan(0, 4))} . tcp . {(e.Key[8] << 8) | e.Key[9]} . 0x{BitConverter.ToUInt32(e.Key, 12):x8}"
            : throw new InvalidOperationException($"the bench's change touched {e.Set}");

        static string EndpointText(byte[] data) => $"{new IPAddress(data.AsSpan(0, 4))} . {(data[4] << 8) | data[5]}";
    }

    /// <summary>Median connect() time in seconds to the VIP and straight to the pods, alternating, after a warm-up.</summary>
    private static async Task<(double Vip, double Direct)> ConnectLatenciesAsync(NftablesBenchOptions options, IPAddress vip)
    {
        var vipSamples = new List<double>();
        var directSamples = new List<double>();
        using var client = new NetnsDialer(options.Client);
        var vipEndPoint = new IPEndPoint(vip, ServicePort);
        var pods = options.BackendIps.Select(ip => new IPEndPoint(IPAddress.Parse(ip), NftablesBenchOptions.BackendPort)).ToArray();
        for (int i = -200; i < 2 * options.Connects; i++)
        {
            bool toVip = (i & 1) == 0;
            // The socket is made in the client's namespace first; only the blocking connect(2) is timed.
            using var socket = await client.CreateAsync(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            // Close with RST: thousands of connections leave no TIME_WAIT behind.
            socket.LingerState = new LingerOption(true, 0);
            long started = Stopwatch.GetTimestamp();
            socket.Connect(toVip ? vipEndPoint : pods[(i & int.MaxValue) / 2 % pods.Length]);
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (i >= 0)
            {
                (toVip ? vipSamples : directSamples).Add(seconds);
            }
        }

        return (Median(vipSamples), Median(directSamples));
    }

    private static void Serve(Socket listener)
    {
        try
        {
            while (true)
            {
                listener.Accept().Dispose();
            }
        }
        catch (SocketException)
        {
            // Closed at the end of the run.
        }
        catch (ObjectDisposedException)
        {
            // Closed at the end of the run.
        }
    }

    private static async Task RunAsync(string program, string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {error}");
        }
    }

    private static double Median(List<double> samples)
    {
        samples.Sort();
        return samples[samples.Count / 2];
    }
}
