using System.Buffers.Binary;
using System.Net;
using Switchboard.Kube.Networking;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// The nf_tables expressions of our table <c>ip kube-proxy</c>. It keeps kube-proxy's entry points (hooks, the
/// masquerade mark, REJECT and DROP for missing endpoints, the firewall chains) but picks endpoints with data maps
/// instead of kube-proxy's per-service and per-endpoint chains: a service port's address is an element of the map of
/// its class (endpoint count K, affinity timeout), whose data is its endpoint group, and one rule per class does
/// <c>dnat to ADDR . PROTO . PORT map @cluster-ips-K . numgen random mod K map @endpoints</c>. Why: on this kernel
/// every new rule holding a jump or a NAT makes the commit re-validate each chain reachable from the hooks
/// (nft_table_validate), about 100 ms at 10,000 services with kube-proxy's chains, while elements are committed
/// without it. So a change of endpoints, of their number, of a service's addresses is elements only; rules are
/// added only for a class not seen before, and validating them walks a table without per-service chains.
/// What nft prints is in each method's summary.
/// </summary>
internal sealed class NftablesLayout(string? clusterCidr)
{
    public const string Table = "kube-proxy";

    public const string Services = "services";
    public const string NodePorts = "nodeports";
    public const string ServicesCheck = "services-check";
    public const string ExternalCheck = "external-check";
    public const string FirewallCheck = "firewall-check";
    public const string MarkForMasquerade = "mark-for-masquerade";
    public const string Masquerading = "masquerading";

    public const string ClusterIps = "cluster-ips";
    public const string ExternalIps = "external-ips";
    public const string ExternalLocalIps = "external-local-ips";
    public const string ServiceNodePorts = "service-nodeports";
    public const string LocalNodePorts = "local-nodeports";
    public const string Endpoints = "endpoints";
    public const string LocalEndpoints = "local-endpoints";
    public const string NodePortEndpoints = "nodeport-endpoints";
    public const string LocalNodePortEndpoints = "local-nodeport-endpoints";
    public const string Hairpin = "hairpin";
    public const string FirewallIps = "firewall-ips";
    public const string NoEndpointServices = "no-endpoint-services";
    public const string NoLocalEndpointServices = "no-local-endpoint-services";
    public const string NoEndpointExternals = "no-endpoint-externals";
    public const string NoLocalEndpointExternals = "no-local-endpoint-externals";
    public const string NoEndpointNodePorts = "no-endpoint-nodeports";
    public const string NoLocalEndpointNodePorts = "no-local-endpoint-nodeports";

    private const uint MasqueradeMark = 0x4000;
    private const uint HookPrerouting = 0;
    private const uint HookInput = 1;
    private const uint HookForward = 2;
    private const uint HookOutput = 3;
    private const uint HookPostrouting = 4;
    private const int PriorityDstNat = -100;
    private const int PrioritySrcNat = 100;
    private const int MaxAffinityEntries = 65535;

    // Register slots (NFT_REG32_xx) of the selection rules: the client's address (affinity), the key, the endpoint
    // index numgen draws, then the endpoint the map gives. Every key is made of packet fields and numgen only, so
    // nft can print every rule.
    private const int Client = 0;
    private const int KeyAddress = 1;
    private const int KeyProtocol = 2;
    private const int KeyPort = 3;
    private const int Index = 4;
    private const int Endpoint = 5;

    private static readonly uint AddressPort = NftTypes.Concat(NftTypes.Ipv4Address, NftTypes.InetService);

    private readonly Ipv4Cidr? _podCidr = clusterCidr is null ? null : Ipv4Cidr.Parse(clusterCidr);

    /// <summary>The chains that pick an endpoint, one per kind of entry; each gets rules per class.</summary>
    public static IReadOnlyList<NftSelector> Selectors { get; } =
    [
        new("cluster-ips-dnat", ClusterIps, Endpoints, NodePort: false),
        new("external-ips-dnat", ExternalIps, Endpoints, NodePort: false),
        new("external-local-ips-dnat", ExternalLocalIps, LocalEndpoints, NodePort: false),
        new("nodeports-dnat", ServiceNodePorts, NodePortEndpoints, NodePort: true),
        new("local-nodeports-dnat", LocalNodePorts, LocalNodePortEndpoints, NodePort: true),
    ];

    /// <summary>Replaces the whole table with the chains, maps and rules that do not depend on services.</summary>
    public void WriteBase(NftBatch b)
    {
        // "add table; delete table; add table": replaces a table left by an earlier run and works when there is none.
        b.AddTable();
        b.DeleteTable();
        b.AddTable();

        // Filtering runs before DNAT (priority dstnat-10), so it sees the service address the client used.
        b.AddBaseChain("filter-prerouting-pre-dnat", "filter", HookPrerouting, PriorityDstNat - 10);
        b.AddBaseChain("filter-input", "filter", HookInput, PriorityDstNat - 10);
        b.AddBaseChain("filter-forward", "filter", HookForward, PriorityDstNat - 10);
        b.AddBaseChain("filter-output", "filter", HookOutput, PriorityDstNat - 10);
        b.AddBaseChain("nat-prerouting", "nat", HookPrerouting, PriorityDstNat);
        b.AddBaseChain("nat-output", "nat", HookOutput, PriorityDstNat);
        b.AddBaseChain("nat-postrouting", "nat", HookPostrouting, PrioritySrcNat);
        foreach (string chain in (string[])[ServicesCheck, ExternalCheck, FirewallCheck, Services, NodePorts, Masquerading, MarkForMasquerade])
        {
            b.AddChain(chain);
        }

        foreach (var selector in Selectors)
        {
            b.AddChain(selector.Chain);
        }

        // Which addresses are whose, for the masquerade marks; the class maps carry the groups.
        b.AddSet(ClusterIps, NftTypes.AddressProtocolPort, 12);
        b.AddSet(ExternalIps, NftTypes.AddressProtocolPort, 12);
        b.AddSet(ExternalLocalIps, NftTypes.AddressProtocolPort, 12);
        b.AddSet(ServiceNodePorts, NftTypes.ProtocolPort, 8);
        b.AddSet(LocalNodePorts, NftTypes.ProtocolPort, 8);
        // (entry key . index) : endpoint, where the index is what numgen draws: host order, as nft's mark.
        uint addressIndex = NftTypes.Concat(NftTypes.Ipv4Address, NftTypes.InetProtocol, NftTypes.InetService, NftTypes.Mark);
        uint portIndex = NftTypes.Concat(NftTypes.InetProtocol, NftTypes.InetService, NftTypes.Mark);
        b.AddDataMap(Endpoints, addressIndex, 16, AddressPort, 8);
        b.AddDataMap(LocalEndpoints, addressIndex, 16, AddressPort, 8);
        b.AddDataMap(NodePortEndpoints, portIndex, 12, AddressPort, 8);
        b.AddDataMap(LocalNodePortEndpoints, portIndex, 12, AddressPort, 8);
        b.AddSet(Hairpin, NftTypes.Concat(NftTypes.Ipv4Address, NftTypes.Ipv4Address), 8);
        b.AddVerdictMap(FirewallIps, NftTypes.AddressProtocolPort, 12);
        foreach (string set in (string[])[NoEndpointServices, NoLocalEndpointServices, NoEndpointExternals, NoLocalEndpointExternals])
        {
            b.AddSet(set, NftTypes.AddressProtocolPort, 12);
        }

        b.AddSet(NoEndpointNodePorts, NftTypes.ProtocolPort, 8);
        b.AddSet(NoLocalEndpointNodePorts, NftTypes.ProtocolPort, 8);

        // Cluster IPs are refused from anywhere; external addresses and NodePorts only on their way in (input,
        // forward), as kube-proxy's KUBE-EXTERNAL-SERVICES, so the node's own short-circuited traffic is not dropped.
        foreach (string chain in (string[])["filter-input", "filter-forward", "filter-output"])
        {
            CtStateNewJump(b, chain, ServicesCheck);
        }

        CtStateNewJump(b, "filter-input", ExternalCheck);
        CtStateNewJump(b, "filter-forward", ExternalCheck);
        CtStateNewJump(b, "filter-prerouting-pre-dnat", FirewallCheck);
        CtStateNewJump(b, "filter-output", FirewallCheck);
        WriteChecks(b);

        JumpRule(b, "nat-prerouting", NftBatch.Jump, Services);
        JumpRule(b, "nat-output", NftBatch.Jump, Services);

        // nat-postrouting: ip saddr . ip daddr @hairpin jump mark-for-masquerade; jump masquerading
        b.BeginRule("nat-postrouting");
        b.Payload(NftPayloadBase.Network, 12, 4, NftBatch.Reg32(1));
        b.Payload(NftPayloadBase.Network, 16, 4, NftBatch.Reg32(2));
        b.Lookup(Hairpin, NftBatch.Reg32(1), verdict: false);
        b.Verdict(NftBatch.Jump, MarkForMasquerade);
        b.EndRule();
        JumpRule(b, "nat-postrouting", NftBatch.Jump, Masquerading);

        // mark-for-masquerade: mark set mark or 0x4000
        b.BeginRule(MarkForMasquerade);
        SetMark(b, ~MasqueradeMark, MasqueradeMark);
        b.EndRule();

        // masquerading: mark and 0x4000 == 0 return; mark set mark xor 0x4000; masquerade fully-random
        b.BeginRule(Masquerading);
        b.Meta(NftMetaKey.Mark, NftBatch.Reg1);
        b.Bitwise(NftBatch.Reg1, HostOrder(MasqueradeMark), HostOrder(0));
        b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, HostOrder(0));
        b.Verdict(NftBatch.Return);
        b.EndRule();
        b.BeginRule(Masquerading);
        SetMark(b, uint.MaxValue, MasqueradeMark);
        b.EndRule();
        b.BeginRule(Masquerading);
        b.MasqueradeFullyRandom();
        b.EndRule();

        WriteServices(b);
        WriteNodePorts(b);
    }

    /// <summary>
    /// The set of one class in <paramref name="selector"/>'s chain and its rule:
    /// <c>KEY @SET-K dnat ip to KEY . numgen random mod K offset 1 map @endpoints</c> (indexes count from 1). With
    /// ClientIP affinity the drawn index goes through the connection's mark so that it can be remembered:
    /// <c>KEY @SET-K-affinity-T ct mark set ip saddr . KEY map @SET-K-affinity-T-clients</c> and
    /// <c>… ct mark != 0 update @…-clients { ip saddr . KEY timeout T : ct mark } dnat ip to KEY . ct mark map @endpoints</c>
    /// put first send a known client back to its endpoint; otherwise <c>ct mark set numgen random mod K offset 1</c>
    /// and <c>add @…-clients { … : ct mark } dnat ip to KEY . ct mark map @endpoints</c>. (nft cannot print a key
    /// made from a map's result, so the index travels in a packet-path value nft knows.)
    /// </summary>
    public static void WriteClass(NftBatch b, NftSelector selector, NftClass c)
    {
        string set = selector.SetOf(c);
        b.AddSet(set, selector.NodePort ? NftTypes.ProtocolPort : NftTypes.AddressProtocolPort, selector.NodePort ? 8u : 12u);
        if (c.AffinitySeconds == 0)
        {
            b.BeginRule(selector.Chain);
            InClass(b, selector, set);
            b.RandomNumber(NftBatch.Reg32(Index), (uint)c.Endpoints, 1);
            DnatToIndexed(b, selector);
            b.EndRule();
            return;
        }

        string clients = selector.ClientsOf(c);
        b.AddDataMap(clients, ClientKeyType, 16, NftTypes.Mark, 4, dynamic: true, size: MaxAffinityEntries);

        // Put first, in reverse: the known client's DNAT, then before it the lookup of its index.
        b.BeginRule(selector.Chain, append: false);
        InClass(b, selector, set);
        b.CtMark(NftBatch.Reg32(Index));
        b.Cmp(NftCmpOp.NotEqual, NftBatch.Reg32(Index), HostOrder(0));
        LoadClientKey(b);
        b.Dynset(clients, update: true, NftBatch.Reg32(Client), NftBatch.Reg32(Index), c.AffinitySeconds);
        DnatToIndexed(b, selector);
        b.EndRule();
        b.BeginRule(selector.Chain, append: false);
        InClass(b, selector, set);
        LoadClientKey(b);
        b.LookupData(clients, NftBatch.Reg32(Client), NftBatch.Reg32(Index));
        b.CtMarkSet(NftBatch.Reg32(Index));
        b.EndRule();

        b.BeginRule(selector.Chain);
        InClass(b, selector, set);
        b.RandomNumber(NftBatch.Reg32(Index), (uint)c.Endpoints, 1);
        b.CtMarkSet(NftBatch.Reg32(Index));
        b.EndRule();
        b.BeginRule(selector.Chain);
        InClass(b, selector, set);
        b.CtMark(NftBatch.Reg32(Index));
        LoadClientKey(b);
        b.Dynset(clients, update: false, NftBatch.Reg32(Client), NftBatch.Reg32(Index), c.AffinitySeconds);
        DnatToIndexed(b, selector);
        b.EndRule();
    }

    /// <summary><c>dnat ip to KEY . INDEX map @ENDPOINTS</c>, the key and index already in their slots; no endpoint there stops the rule.</summary>
    private static void DnatToIndexed(NftBatch b, NftSelector selector)
    {
        b.LookupData(selector.Endpoints, NftBatch.Reg32(selector.NodePort ? KeyProtocol : KeyAddress), NftBatch.Reg32(Endpoint));
        b.Dnat(NftBatch.Reg32(Endpoint), NftBatch.Reg32(Endpoint + 1));
    }

    /// <summary>A port's firewall chain: <c>ip saddr RANGE return</c> per loadBalancerSourceRange, then <c>drop</c>.</summary>
    public static void WriteFirewallChain(NftBatch b, string chain, IEnumerable<Ipv4Cidr> sourceRanges)
    {
        foreach (var range in sourceRanges)
        {
            b.BeginRule(chain);
            b.Payload(NftPayloadBase.Network, 12, 4, NftBatch.Reg1);
            b.Bitwise(NftBatch.Reg1, NetworkOrder(Mask(range)), NetworkOrder(0));
            b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, range.Network.GetAddressBytes());
            b.Verdict(NftBatch.Return);
            b.EndRule();
        }

        JumpRule(b, chain, NftBatch.Drop, null);
    }

    /// <summary>The key of an address entry: <c>ADDRESS . PROTO . PORT</c>, each field in a 4-byte slot.</summary>
    public static byte[] AddressKey(string ip, string protocol, int port)
    {
        byte[] key = new byte[12];
        Address(ip).CopyTo(key, 0);
        key[4] = ProtocolNumber(protocol);
        BinaryPrimitives.WriteUInt16BigEndian(key.AsSpan(8), (ushort)port);
        return key;
    }

    /// <summary>The key of a NodePort entry: <c>PROTO . PORT</c>.</summary>
    public static byte[] NodePortKey(string protocol, int port)
    {
        byte[] key = new byte[8];
        key[0] = ProtocolNumber(protocol);
        BinaryPrimitives.WriteUInt16BigEndian(key.AsSpan(4), (ushort)port);
        return key;
    }

    /// <summary>An entry key followed by an endpoint index as numgen writes it (host order), counting from 1.</summary>
    public static byte[] IndexedKey(byte[] key, int index)
    {
        byte[] indexed = new byte[key.Length + 4];
        key.CopyTo(indexed, 0);
        BitConverter.TryWriteBytes(indexed.AsSpan(key.Length), (uint)index + 1);
        return indexed;
    }

    /// <summary>An endpoint as DNAT reads it: address, then the port in the first two bytes of the next slot.</summary>
    public static byte[] EndpointData(string ip, int port)
    {
        byte[] data = new byte[8];
        Address(ip).CopyTo(data, 0);
        BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(4), (ushort)port);
        return data;
    }

    /// <summary><c>ADDRESS . ADDRESS</c>: a pod reaching itself after DNAT.</summary>
    public static byte[] HairpinKey(string ip)
    {
        byte[] key = new byte[8];
        Address(ip).CopyTo(key, 0);
        Address(ip).CopyTo(key, 4);
        return key;
    }

    /// <summary>
    /// services: marks what kube-proxy masquerades, then picks the endpoint:
    /// <c>ip saddr != CIDR ip daddr . meta l4proto . th dport @cluster-ips jump mark-for-masquerade</c> (off-cluster
    /// clients of a cluster IP), external addresses of the Cluster policy always, of the Local policy when the node
    /// itself is the client; then the selection chains. The Local policy's own endpoints serve clients from outside
    /// (none: <c>return</c>, so the filter drops them); pods and the node itself are short-circuited to all endpoints.
    /// </summary>
    private void WriteServices(NftBatch b)
    {
        if (_podCidr is { } cidr)
        {
            b.BeginRule(Services);
            SourceInCidr(b, cidr, NftCmpOp.NotEqual);
            LoadAddressKey(b);
            b.Lookup(ClusterIps, NftBatch.Reg32(KeyAddress), verdict: false);
            b.Verdict(NftBatch.Jump, MarkForMasquerade);
            b.EndRule();
        }

        WriteMarks(b, Services, ExternalIps, ExternalLocalIps, NoLocalEndpointExternals, nodePort: false);
        JumpRule(b, Services, NftBatch.Jump, "cluster-ips-dnat");
        WriteExternalJumps(b, Services, "external-local-ips-dnat", "external-ips-dnat");

        // fib daddr type local ip daddr != 127.0.0.0/8 jump nodeports
        b.BeginRule(Services);
        b.FibDestinationType(NftBatch.Reg1);
        b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, HostOrder(NftTypes.RouteLocal));
        b.Payload(NftPayloadBase.Network, 16, 1, NftBatch.Reg1);
        b.Cmp(NftCmpOp.NotEqual, NftBatch.Reg1, [127]);
        b.Verdict(NftBatch.Jump, NodePorts);
        b.EndRule();
    }

    /// <summary>nodeports: as services' external part, for <c>meta l4proto . th dport</c> on the node's own addresses.</summary>
    private void WriteNodePorts(NftBatch b)
    {
        WriteMarks(b, NodePorts, ServiceNodePorts, LocalNodePorts, NoLocalEndpointNodePorts, nodePort: true);
        WriteExternalJumps(b, NodePorts, "local-nodeports-dnat", "nodeports-dnat");
    }

    /// <summary>
    /// <c>KEY @CLUSTER jump mark-for-masquerade</c>; <c>fib saddr type local KEY @LOCAL jump mark-for-masquerade</c>;
    /// <c>ip saddr != CIDR fib saddr type != local KEY @NO-LOCAL return</c>.
    /// </summary>
    private void WriteMarks(NftBatch b, string chain, string cluster, string local, string noLocal, bool nodePort)
    {
        b.BeginRule(chain);
        LookupKey(b, cluster, nodePort);
        b.Verdict(NftBatch.Jump, MarkForMasquerade);
        b.EndRule();

        b.BeginRule(chain);
        LocalSource(b, NftCmpOp.Equal);
        LookupKey(b, local, nodePort);
        b.Verdict(NftBatch.Jump, MarkForMasquerade);
        b.EndRule();

        b.BeginRule(chain);
        FromOutside(b);
        LookupKey(b, noLocal, nodePort);
        b.Verdict(NftBatch.Return);
        b.EndRule();
    }

    /// <summary><c>ip saddr != CIDR fib saddr type != local jump LOCAL</c>, then <c>jump CLUSTER</c>.</summary>
    private void WriteExternalJumps(NftBatch b, string chain, string local, string cluster)
    {
        b.BeginRule(chain);
        FromOutside(b);
        b.Verdict(NftBatch.Jump, local);
        b.EndRule();
        JumpRule(b, chain, NftBatch.Jump, cluster);
    }

    /// <summary>Neither a pod (when the pod CIDR is known) nor the node itself.</summary>
    private void FromOutside(NftBatch b)
    {
        if (_podCidr is { } cidr)
        {
            SourceInCidr(b, cidr, NftCmpOp.NotEqual);
        }

        LocalSource(b, NftCmpOp.NotEqual);
    }

    private static void LookupKey(NftBatch b, string set, bool nodePort)
    {
        if (nodePort)
        {
            LoadNodePortKey(b);
            b.Lookup(set, NftBatch.Reg32(KeyProtocol), verdict: false);
        }
        else
        {
            LoadAddressKey(b);
            b.Lookup(set, NftBatch.Reg32(KeyAddress), verdict: false);
        }
    }

    /// <summary>
    /// services-check: <c>ip daddr . meta l4proto . th dport @no-endpoint-services reject</c>, <c>… @no-local-endpoint-services drop</c>;
    /// external-check the same for external addresses and NodePorts; firewall-check: <c>… vmap @firewall-ips</c>.
    /// </summary>
    private static void WriteChecks(NftBatch b)
    {
        foreach (var (chain, set, reject) in (ReadOnlySpan<(string, string, bool)>)[
            (ServicesCheck, NoEndpointServices, true), (ServicesCheck, NoLocalEndpointServices, false),
            (ExternalCheck, NoEndpointExternals, true), (ExternalCheck, NoLocalEndpointExternals, false)])
        {
            b.BeginRule(chain);
            LoadAddressKey(b);
            b.Lookup(set, NftBatch.Reg32(KeyAddress), verdict: false);
            Refuse(b, reject);
            b.EndRule();
        }

        foreach (var (set, reject) in (ReadOnlySpan<(string, bool)>)[(NoEndpointNodePorts, true), (NoLocalEndpointNodePorts, false)])
        {
            b.BeginRule(ExternalCheck);
            b.FibDestinationType(NftBatch.Reg1);
            b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, HostOrder(NftTypes.RouteLocal));
            LoadNodePortKey(b);
            b.Lookup(set, NftBatch.Reg32(KeyProtocol), verdict: false);
            Refuse(b, reject);
            b.EndRule();
        }

        b.BeginRule(FirewallCheck);
        LoadAddressKey(b);
        b.Lookup(FirewallIps, NftBatch.Reg32(KeyAddress), verdict: true);
        b.EndRule();
    }

    private static void Refuse(NftBatch b, bool reject)
    {
        if (reject)
        {
            b.RejectPortUnreachable();
        }
        else
        {
            b.Verdict(NftBatch.Drop);
        }
    }

    /// <summary><c>KEY @SET</c>: the packet's entry is of this class, or the rule stops.</summary>
    private static void InClass(NftBatch b, NftSelector selector, string set)
    {
        LookupKey(b, set, selector.NodePort);
    }

    /// <summary><c>ip saddr . ip daddr . meta l4proto . th dport</c> into slots 0..3: a client of one entry.</summary>
    private static void LoadClientKey(NftBatch b)
    {
        b.Payload(NftPayloadBase.Network, 12, 4, NftBatch.Reg32(Client));
        LoadAddressKey(b);
    }

    private static uint ClientKeyType => NftTypes.Concat(NftTypes.Ipv4Address, NftTypes.Ipv4Address, NftTypes.InetProtocol, NftTypes.InetService);

    /// <summary><c>ip daddr . meta l4proto . th dport</c> into slots 1..3.</summary>
    private static void LoadAddressKey(NftBatch b)
    {
        b.Payload(NftPayloadBase.Network, 16, 4, NftBatch.Reg32(KeyAddress));
        LoadNodePortKey(b);
    }

    /// <summary><c>meta l4proto . th dport</c> into slots 2..3.</summary>
    private static void LoadNodePortKey(NftBatch b)
    {
        b.Meta(NftMetaKey.L4Protocol, NftBatch.Reg32(KeyProtocol));
        b.Payload(NftPayloadBase.Transport, 2, 2, NftBatch.Reg32(KeyPort));
    }

    /// <summary><c>ip saddr [!=] CIDR</c>.</summary>
    private static void SourceInCidr(NftBatch b, Ipv4Cidr cidr, NftCmpOp op)
    {
        b.Payload(NftPayloadBase.Network, 12, 4, NftBatch.Reg1);
        b.Bitwise(NftBatch.Reg1, NetworkOrder(Mask(cidr)), NetworkOrder(0));
        b.Cmp(op, NftBatch.Reg1, cidr.Network.GetAddressBytes());
    }

    /// <summary><c>fib saddr type [!=] local</c>.</summary>
    private static void LocalSource(NftBatch b, NftCmpOp op)
    {
        b.FibSourceType(NftBatch.Reg1);
        b.Cmp(op, NftBatch.Reg1, HostOrder(NftTypes.RouteLocal));
    }

    /// <summary><c>ct state new jump TARGET</c>.</summary>
    private static void CtStateNewJump(NftBatch b, string chain, string target)
    {
        b.BeginRule(chain);
        b.CtState(NftBatch.Reg1);
        b.Bitwise(NftBatch.Reg1, HostOrder(NftTypes.CtStateNew), HostOrder(0));
        b.Cmp(NftCmpOp.NotEqual, NftBatch.Reg1, HostOrder(0));
        b.Verdict(NftBatch.Jump, target);
        b.EndRule();
    }

    private static void JumpRule(NftBatch b, string chain, int code, string? target)
    {
        b.BeginRule(chain);
        b.Verdict(code, target);
        b.EndRule();
    }

    /// <summary>mark = (mark &amp; <paramref name="mask"/>) ^ <paramref name="xor"/>.</summary>
    private static void SetMark(NftBatch b, uint mask, uint xor)
    {
        b.Meta(NftMetaKey.Mark, NftBatch.Reg1);
        b.Bitwise(NftBatch.Reg1, HostOrder(mask), HostOrder(xor));
        b.MetaSet(NftMetaKey.Mark, NftBatch.Reg1);
    }

    private static uint Mask(Ipv4Cidr cidr) => cidr.PrefixLength == 0 ? 0 : uint.MaxValue << (32 - cidr.PrefixLength);

    private static byte ProtocolNumber(string protocol) => protocol switch
    {
        "tcp" => 6,
        "udp" => 17,
        "sctp" => 132,
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "not a service protocol"),
    };

    private static byte[] Address(string ip) => IPAddress.Parse(ip).GetAddressBytes();

    // Packet fields are compared in network order; meta, ct and fib values sit in registers in host order.
    private static byte[] NetworkOrder(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private static byte[] HostOrder(uint value) => BitConverter.GetBytes(value);
}
