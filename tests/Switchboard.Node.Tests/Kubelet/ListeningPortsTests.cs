using System.Net;
using System.Net.Sockets;
using Switchboard.Node.Kubelet;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>The socket tables a readiness retry reads before it dials, against real sockets of this process.</summary>
public sealed class ListeningPortsTests
{
    [Fact]
    public void A_listening_socket_counts_over_IPv4_and_IPv6_and_a_bound_or_connected_one_does_not()
    {
        int self = Environment.ProcessId;
        var v4 = new TcpListener(IPAddress.Loopback, 0);
        v4.Start();
        int v4Port = ((IPEndPoint)v4.LocalEndpoint).Port;
        using var client = new TcpClient(AddressFamily.InterNetwork);
        client.Connect(IPAddress.Loopback, v4Port);
        int clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        using var bound = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        int boundPort = ((IPEndPoint)bound.LocalEndPoint!).Port;
        var v6 = new TcpListener(IPAddress.IPv6Any, 0);
        v6.Start();
        int v6Port = ((IPEndPoint)v6.LocalEndpoint).Port;

        Assert.True(ListeningPorts.Any(self, v4Port));
        Assert.True(ListeningPorts.Any(self, v6Port));
        Assert.False(ListeningPorts.Any(self, clientPort));
        Assert.False(ListeningPorts.Any(self, boundPort));

        v4.Stop();
        v6.Stop();
        Assert.False(ListeningPorts.Any(self, v4Port));
        Assert.False(ListeningPorts.Any(self, v6Port));
    }

    [Fact]
    public void Unreadable_tables_say_listening_so_the_probe_dials_to_find_out()
    {
        Assert.True(ListeningPorts.Any(int.MaxValue, 8080));
    }
}
