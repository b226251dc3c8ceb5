using System.Buffers.Binary;
using System.Net;
using Switchboard.Kube.Networking;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// kube-proxy's nftables layout in the table <c>ip kube-proxy</c>, written as nf_tables expressions: the chains on the
/// netfilter hooks, the dispatch verdict maps and the rules of one service port's chains. What nft would print is in
/// each method's summary.
/// </summary>
internal sealed class NftablesLayout(string? clusterCidr)
{
    public const string Table = "kube-proxy";
    public const string Services = "services";
    public const string ServiceIps = "service-ips";
    public const string ServiceNodePorts = "service-nodeports";
    public const string NoEndpointServices = "no-endpoint-services";
    public const string NoEndpointNodePorts = "no-endpoint-nodeports";
    public const string EndpointsCheck = "endpoints-check";
    public const string RejectChain = "reject-chain";
    public const string MarkForMasquerade = "mark-for-masquerade";
    public const string Masquerading = "masquerading";

    private const uint MasqueradeMark = 0x4000;
    private const uint HookPrerouting = 0;
    private const uint HookInput = 1;
    private const uint HookForward = 2;
    private const uint HookOutput = 3;
    private const uint HookPostrouting = 4;
    private const int PriorityDstNat = -100;
    private const int PrioritySrcNat = 100;

    private readonly Ipv4Cidr? _podCidr = clusterCidr is null ? null : Ipv4Cidr.Parse(clusterCidr);

    /// <summary>Replaces the whole table with the chains, maps and rules that do not depend on services.</summary>
    public static void WriteBase(NftBatch b)
    {
        // "add table; delete table; add table": replaces a table left by an earlier run and works when there is none.
        b.AddTable();
        b.DeleteTable();
        b.AddTable();

        // Filtering runs before DNAT (priority dstnat-10), so it sees the service address the client used.
        b.AddBaseChain("filter-input", "filter", HookInput, PriorityDstNat - 10);
        b.AddBaseChain("filter-forward", "filter", HookForward, PriorityDstNat - 10);
        b.AddBaseChain("filter-output", "filter", HookOutput, PriorityDstNat - 10);
        b.AddBaseChain("nat-prerouting", "nat", HookPrerouting, PriorityDstNat);
        b.AddBaseChain("nat-output", "nat", HookOutput, PriorityDstNat);
        b.AddBaseChain("nat-postrouting", "nat", HookPostrouting, PrioritySrcNat);
        foreach (string chain in (string[])[EndpointsCheck, Services, Masquerading, MarkForMasquerade, RejectChain])
        {
            b.AddChain(chain);
        }

        b.AddVerdictMap(ServiceIps, NftTypes.AddressProtocolPort, 12);
        b.AddVerdictMap(ServiceNodePorts, NftTypes.ProtocolPort, 8);
        b.AddVerdictMap(NoEndpointServices, NftTypes.AddressProtocolPort, 12);
        b.AddVerdictMap(NoEndpointNodePorts, NftTypes.ProtocolPort, 8);

        // A service without endpoints is rejected where reject works: input, forward, output.
        foreach (string chain in (string[])["filter-input", "filter-forward", "filter-output"])
        {
            CtStateNewJump(b, chain, EndpointsCheck);
        }

        JumpRule(b, "nat-prerouting", NftBatch.Jump, Services);
        JumpRule(b, "nat-output", NftBatch.Jump, Services);
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

        b.BeginRule(RejectChain);
        b.RejectPortUnreachable();
        b.EndRule();

        DispatchRules(b, EndpointsCheck, NoEndpointServices, NoEndpointNodePorts);
        DispatchRules(b, Services, ServiceIps, ServiceNodePorts);
    }

    /// <summary>
    /// The service chain: <c>ip daddr CIP tcp dport P ip saddr != CIDR jump mark-for-masquerade</c>, with affinity
    /// <c>ip saddr @affinity-… goto endpoint-…</c> per endpoint, then <c>numgen random mod N vmap { 0 : goto endpoint-…, … }</c>.
    /// </summary>
    public void WriteServiceChain(NftBatch b, NftServicePort port)
    {
        var s = port.State;
        if (_podCidr is { } cidr)
        {
            b.BeginRule(port.ServiceChain);
            b.Payload(NftPayloadBase.Network, 16, 4, NftBatch.Reg1);
            b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, Address(s.ClusterIp));
            b.Meta(NftMetaKey.L4Protocol, NftBatch.Reg1);
            b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, [ProtocolNumber(s.Protocol)]);
            b.Payload(NftPayloadBase.Transport, 2, 2, NftBatch.Reg1);
            b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, Port(s.Port));
            b.Payload(NftPayloadBase.Network, 12, 4, NftBatch.Reg1);
            uint mask = cidr.PrefixLength == 0 ? 0 : uint.MaxValue << (32 - cidr.PrefixLength);
            b.Bitwise(NftBatch.Reg1, NetworkOrder(mask), NetworkOrder(0));
            b.Cmp(NftCmpOp.NotEqual, NftBatch.Reg1, cidr.Network.GetAddressBytes());
            b.Verdict(NftBatch.Jump, MarkForMasquerade);
            b.EndRule();
        }

        for (int i = 0; i < port.AffinitySets.Length; i++)
        {
            b.BeginRule(port.ServiceChain);
            b.Payload(NftPayloadBase.Network, 12, 4, NftBatch.Reg1);
            b.Lookup(port.AffinitySets[i], NftBatch.Reg1, verdict: false);
            b.Verdict(NftBatch.Goto, port.EndpointChains[i]);
            b.EndRule();
        }

        string map = b.AnonymousVerdictMap(port.EndpointChains);
        b.BeginRule(port.ServiceChain);
        b.RandomNumber(NftBatch.Reg1, (uint)port.EndpointChains.Length);
        b.Lookup(map, NftBatch.Reg1, verdict: true);
        b.EndRule();
    }

    /// <summary>
    /// One endpoint's chain: <c>ip saddr EP jump mark-for-masquerade</c> (hairpin), with affinity
    /// <c>update @affinity-… { ip saddr }</c>, then <c>meta l4proto tcp dnat to EP:PORT</c>.
    /// </summary>
    public static void WriteEndpointChain(NftBatch b, NftServicePort port, int index)
    {
        var s = port.State;
        var ep = s.Endpoints[index];
        string chain = port.EndpointChains[index];
        b.BeginRule(chain);
        b.Payload(NftPayloadBase.Network, 12, 4, NftBatch.Reg1);
        b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, Address(ep.Ip));
        b.Verdict(NftBatch.Jump, MarkForMasquerade);
        b.EndRule();
        if (!port.AffinitySets.IsEmpty)
        {
            b.BeginRule(chain);
            b.Payload(NftPayloadBase.Network, 12, 4, NftBatch.Reg1);
            b.UpdateSet(port.AffinitySets[index], NftBatch.Reg1);
            b.EndRule();
        }

        b.BeginRule(chain);
        b.Meta(NftMetaKey.L4Protocol, NftBatch.Reg1);
        b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, [ProtocolNumber(s.Protocol)]);
        b.Immediate(NftBatch.Reg1, Address(ep.Ip));
        b.Immediate(NftBatch.Reg2, Port(ep.Port));
        b.Dnat(NftBatch.Reg1, NftBatch.Reg2);
        b.EndRule();
    }

    /// <summary>The external (NodePort) chain: <c>jump mark-for-masquerade</c>, <c>goto service-…</c>.</summary>
    public static void WriteExternalChain(NftBatch b, NftServicePort port)
    {
        JumpRule(b, port.ExternalChain, NftBatch.Jump, MarkForMasquerade);
        JumpRule(b, port.ExternalChain, NftBatch.Goto, port.ServiceChain);
    }

    /// <summary>The port's element in service-ips (or no-endpoint-services): <c>CIP . tcp . P : goto …</c>.</summary>
    public static void ClusterIpElement(NftBatch b, NftOperation operation, NftServicePort port)
    {
        var s = port.State;
        Span<byte> key = stackalloc byte[12];
        key.Clear();
        Address(s.ClusterIp).CopyTo(key);
        key[4] = ProtocolNumber(s.Protocol);
        BinaryPrimitives.WriteUInt16BigEndian(key[8..], (ushort)s.Port);
        b.Element(operation, s.HasEndpoints ? ServiceIps : NoEndpointServices, key, s.HasEndpoints ? port.ServiceChain : RejectChain);
    }

    /// <summary>The port's element in service-nodeports (or no-endpoint-nodeports): <c>tcp . NODEPORT : goto …</c>.</summary>
    public static void NodePortElement(NftBatch b, NftOperation operation, NftServicePort port)
    {
        var s = port.State;
        Span<byte> key = stackalloc byte[8];
        key.Clear();
        key[0] = ProtocolNumber(s.Protocol);
        BinaryPrimitives.WriteUInt16BigEndian(key[4..], (ushort)s.NodePort);
        b.Element(operation, s.HasEndpoints ? ServiceNodePorts : NoEndpointNodePorts, key, s.HasEndpoints ? port.ExternalChain : RejectChain);
    }

    /// <summary>
    /// <c>ip daddr . meta l4proto . th dport vmap @ips</c> and, for NodePorts, <c>fib daddr type local ip daddr != 127.0.0.0/8
    /// meta l4proto . th dport vmap @nodeports</c>.
    /// </summary>
    private static void DispatchRules(NftBatch b, string chain, string ips, string nodePorts)
    {
        b.BeginRule(chain);
        b.Payload(NftPayloadBase.Network, 16, 4, NftBatch.Reg1);
        b.Meta(NftMetaKey.L4Protocol, NftBatch.Reg32_01);
        b.Payload(NftPayloadBase.Transport, 2, 2, NftBatch.Reg32_02);
        b.Lookup(ips, NftBatch.Reg1, verdict: true);
        b.EndRule();

        b.BeginRule(chain);
        b.FibDestinationType(NftBatch.Reg1);
        b.Cmp(NftCmpOp.Equal, NftBatch.Reg1, HostOrder(NftTypes.RouteLocal));
        b.Payload(NftPayloadBase.Network, 16, 1, NftBatch.Reg1);
        b.Cmp(NftCmpOp.NotEqual, NftBatch.Reg1, [127]);
        b.Meta(NftMetaKey.L4Protocol, NftBatch.Reg1);
        b.Payload(NftPayloadBase.Transport, 2, 2, NftBatch.Reg32_01);
        b.Lookup(nodePorts, NftBatch.Reg1, verdict: true);
        b.EndRule();
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

    private static void JumpRule(NftBatch b, string chain, int code, string target)
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

    private static byte ProtocolNumber(string protocol) => protocol switch
    {
        "tcp" => 6,
        "udp" => 17,
        "sctp" => 132,
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "not a service protocol"),
    };

    private static byte[] Address(string ip) => IPAddress.Parse(ip).GetAddressBytes();

    private static byte[] Port(int port) => [(byte)(port >> 8), (byte)port];

    // Packet fields are compared in network order; meta, ct and fib values sit in registers in host order.
    private static byte[] NetworkOrder(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private static byte[] HostOrder(uint value) => BitConverter.GetBytes(value);
}
