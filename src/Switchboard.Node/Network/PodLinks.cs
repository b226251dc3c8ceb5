using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using Switchboard.Kube.Netlink;

namespace Switchboard.Node.Network;

/// <summary>
/// A pod's links over rtnetlink, from the agent (where <c>ip -batch</c> cost two processes a pod): run on a thread inside
/// the pod's new network namespace, it creates the veth pair there (eth0 here, its peer straight in the node namespace),
/// brings lo and eth0 up with the pod's address and its routes via the gateway; then, on a socket made in the node
/// namespace, puts the peer on the bridge with hairpin on and brings it up. Each request is acknowledged; an error names the kernel's errno
/// and explanation.
/// </summary>
internal static partial class PodLinks
{
    private const ushort NewLink = 16;
    private const ushort DelLink = 17;
    private const ushort NewAddr = 20;
    private const ushort NewRoute = 24;
    private const ushort Request = 0x1;
    private const ushort Ack = 0x4;
    private const ushort Exclusive = 0x200;
    private const ushort Create = 0x400;
    private const ushort IflaIfname = 3;
    private const ushort IflaMaster = 10;
    private const ushort IflaLinkInfo = 18;
    private const ushort IflaNetNsFd = 28;
    private const ushort InfoKind = 1;
    private const ushort InfoData = 2;
    private const ushort InfoSlaveKind = 4;
    private const ushort InfoSlaveData = 5;
    private const ushort VethPeer = 1;
    private const ushort BridgePortMode = 4;
    private const ushort IfaLocal = 2;
    private const ushort IfaAddress = 1;
    private const ushort RtaDst = 1;
    private const ushort RtaOif = 4;
    private const ushort RtaGateway = 5;
    private const uint IffUp = 1;
    private const byte AfInet = 2;
    private const byte MainTable = 254;
    private const byte ProtocolBoot = 3;
    private const byte Unicast = 1;
    private const int EExist = 17;
    private const int ENoDev = 19;

    /// <summary>
    /// Wires the calling thread's network namespace (a pod's, new) to <paramref name="network"/>'s bridge as
    /// <paramref name="veth"/>, with <paramref name="address"/> on eth0.
    /// </summary>
    public static void ConnectHere(NodeNetwork network, string veth, IPAddress address)
    {
        string nodeNamespace = network.Names.NodeNamespace;
        var (node, bridge) = NetlinkSocket.InNamespace(nodeNamespace, () => (NetlinkSocket.OpenHere(NetlinkSocket.NetlinkRoute), IfNameToIndex(NetworkNames.Bridge)));
        using (node)
        {
            using var pod = NetlinkSocket.OpenHere(NetlinkSocket.NetlinkRoute);
            using var writer = new NetlinkWriter();
            using (var nodeHandle = File.OpenHandle(NodeNetwork.NamespacePath(nodeNamespace)))
            {
                uint nodeFd = (uint)nodeHandle.DangerousGetHandle();
                AddVeth(writer, veth, nodeFd);
                try
                {
                    Run(pod, writer);
                }
                catch (NetlinkException e) when (e.Code == EExist)
                {
                    // A veth of an earlier namespace that a stray process kept alive: remove it and try once more.
                    DeleteLink(node, veth);
                    AddVeth(writer, veth, nodeFd);
                    Run(pod, writer);
                }
            }

            uint eth0 = IfNameToIndex("eth0");
            SetUp(writer, "lo");
            SetUp(writer, "eth0");
            int start = writer.BeginMessage(NewAddr, Request | Ack | Create | Exclusive, 0, [AfInet, (byte)network.Cidr.PrefixLength, 0, 0, .. Index(eth0)]);
            writer.Bytes(IfaLocal, address.GetAddressBytes());
            writer.Bytes(IfaAddress, address.GetAddressBytes());
            writer.EndMessage(start);
            AddRoute(writer, null, 0, network.Cidr.Gateway, eth0);
            var (service, serviceLength) = Prefix(network.ServiceCidr);
            AddRoute(writer, service, serviceLength, network.Cidr.Gateway, eth0);
            Run(pod, writer);

            int port = writer.BeginMessage(NewLink, Request | Ack, 0, LinkHeader(IffUp));
            writer.String(IflaIfname, veth);
            writer.U32Host(IflaMaster, bridge);
            writer.EndMessage(port);
            int hairpin = writer.BeginMessage(NewLink, Request | Ack, 0, LinkHeader(0));
            writer.String(IflaIfname, veth);
            int info = writer.BeginNest(IflaLinkInfo);
            writer.String(InfoSlaveKind, "bridge");
            int data = writer.BeginNest(InfoSlaveData);
            writer.U8(BridgePortMode, 1);
            writer.EndNest(data);
            writer.EndNest(info);
            writer.EndMessage(hairpin);
            Run(node, writer);
        }
    }

    /// <summary>Deletes link <paramref name="name"/> of the node namespace <paramref name="nodeNamespace"/>; none by that name is no error.</summary>
    public static void DeleteNodeLink(string nodeNamespace, string name)
    {
        using var node = NetlinkSocket.Open(nodeNamespace, NetlinkSocket.NetlinkRoute);
        DeleteLink(node, name);
    }

    /// <summary>Deletes link <paramref name="name"/> through <paramref name="socket"/>; none by that name is no error.</summary>
    private static void DeleteLink(NetlinkSocket socket, string name)
    {
        using var writer = new NetlinkWriter();
        int start = writer.BeginMessage(DelLink, Request | Ack, 0, LinkHeader(0));
        writer.String(IflaIfname, name);
        writer.EndMessage(start);
        try
        {
            Run(socket, writer);
        }
        catch (NetlinkException e) when (e.Code == ENoDev)
        {
            // Gone already.
        }
    }

    private static void AddVeth(NetlinkWriter writer, string peer, uint nodeNamespaceFd)
    {
        int start = writer.BeginMessage(NewLink, Request | Ack | Create | Exclusive, 0, LinkHeader(0));
        writer.String(IflaIfname, "eth0");
        int info = writer.BeginNest(IflaLinkInfo);
        writer.String(InfoKind, "veth");
        int data = writer.BeginNest(InfoData);
        int peerNest = writer.BeginNest(VethPeer);
        writer.Raw(LinkHeader(0));
        writer.String(IflaIfname, peer);
        writer.U32Host(IflaNetNsFd, nodeNamespaceFd);
        writer.EndNest(peerNest);
        writer.EndNest(data);
        writer.EndNest(info);
        writer.EndMessage(start);
    }

    private static void SetUp(NetlinkWriter writer, string name)
    {
        int start = writer.BeginMessage(NewLink, Request | Ack, 0, LinkHeader(IffUp));
        writer.String(IflaIfname, name);
        writer.EndMessage(start);
    }

    private static void AddRoute(NetlinkWriter writer, byte[]? destination, int prefixLength, IPAddress gateway, uint device)
    {
        int start = writer.BeginMessage(NewRoute, Request | Ack | Create | Exclusive, 0, [AfInet, (byte)prefixLength, 0, 0, MainTable, ProtocolBoot, 0, Unicast, 0, 0, 0, 0]);
        if (destination is not null)
        {
            writer.Bytes(RtaDst, destination);
        }

        writer.Bytes(RtaGateway, gateway.GetAddressBytes());
        writer.U32Host(RtaOif, device);
        writer.EndMessage(start);
    }

    /// <summary>ifinfomsg: family unspecified, no index (the link is named by IFLA_IFNAME), <paramref name="flags"/> set among IFF_UP.</summary>
    private static byte[] LinkHeader(uint flags)
    {
        byte[] header = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), flags == 0 ? 0 : IffUp);
        return header;
    }

    private static byte[] Index(uint index)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, index);
        return bytes;
    }

    private static (byte[] Address, int Length) Prefix(string cidr)
    {
        string[] parts = cidr.Split('/');
        return (IPAddress.Parse(parts[0]).GetAddressBytes(), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Sends what <paramref name="writer"/> holds as one datagram (the kernel runs its messages in order) and throws on the first error acknowledged.</summary>
    private static void Run(NetlinkSocket socket, NetlinkWriter writer)
    {
        try
        {
            socket.Send(writer.Written);
            var replies = new List<NetlinkReply>();
            socket.DrainReplies(replies);
            if (replies.FirstOrDefault(r => r.Error != 0) is { Error: not 0 } failed)
            {
                throw new NetlinkException(-failed.Error, failed.Message);
            }
        }
        finally
        {
            writer.Clear();
        }
    }

    private static uint IfNameToIndex(string name)
    {
        uint index = IfNameToIndexCall(name);
        return index != 0 ? index : throw new IOException($"no link {name}: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndexCall(string name);
}

/// <summary>An rtnetlink request the kernel refused: its errno and, when it gave one, its explanation.</summary>
internal sealed class NetlinkException(int errno, string? message)
    : IOException($"rtnetlink request failed: {Errno.Name(errno)}{(message is null ? "" : ": " + message)}")
{
    public int Code { get; } = errno;
}
