using System.Net;
using System.Net.Sockets;
using Switchboard.Kube.Netlink;
using Switchboard.Node.Kubelet;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>The kernel's listener lookup a readiness retry makes before it dials, against real sockets of this process's namespace.</summary>
public sealed class ListeningPortsTests
{
    [Fact]
    public void A_listener_that_would_take_the_connection_counts_and_a_bound_connected_v6_only_or_closed_one_does_not()
    {
        using var listening = new ListeningPorts(() => NetlinkSocket.OpenHere(NetlinkSocket.NetlinkSockDiag));
        var v4 = new TcpListener(IPAddress.Loopback, 0);
        v4.Start();
        int v4Port = ((IPEndPoint)v4.LocalEndpoint).Port;
        using var client = new TcpClient(AddressFamily.InterNetwork);
        client.Connect(IPAddress.Loopback, v4Port);
        int clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int boundPort = ((IPEndPoint)bound.LocalEndPoint!).Port;
        using var dualStack = new Socket(SocketType.Stream, ProtocolType.Tcp);
        dualStack.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        dualStack.Listen();
        int dualStackPort = ((IPEndPoint)dualStack.LocalEndPoint!).Port;
        using var v6Only = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = false };
        v6Only.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        v6Only.Listen();
        int v6OnlyPort = ((IPEndPoint)v6Only.LocalEndPoint!).Port;

        Assert.True(listening.Any(IPAddress.Loopback, v4Port));
        Assert.True(listening.Any(IPAddress.Loopback, dualStackPort));
        Assert.True(listening.Any(IPAddress.IPv6Loopback, v6OnlyPort));
        Assert.False(listening.Any(IPAddress.Loopback, v6OnlyPort));
        Assert.False(listening.Any(IPAddress.Loopback, clientPort));
        Assert.False(listening.Any(IPAddress.Loopback, boundPort));

        v4.Stop();
        dualStack.Close();
        Assert.False(listening.Any(IPAddress.Loopback, v4Port));
        Assert.False(listening.Any(IPAddress.Loopback, dualStackPort));
    }

    [Fact]
    public void A_lookup_that_cannot_be_made_says_listening_so_the_probe_dials_to_find_out()
    {
        using var listening = new ListeningPorts(() => throw new IOException("no netlink here"));

        Assert.True(listening.Any(IPAddress.Loopback, 8080));
    }
}
