using System.Net;
using System.Net.Sockets;
using Switchboard.Dns.Forwarding;

namespace Switchboard.Dns.Server;

public sealed record DnsServerOptions
{
    /// <summary>Where UDP and TCP listen; port 0 picks one free port for both.</summary>
    public IPEndPoint EndPoint { get; init; } = new(IPAddress.Loopback, 1053);

    /// <summary>UDP sockets sharing the port with SO_REUSEPORT, each served by its own thread.</summary>
    public int UdpSockets { get; init; } = Environment.ProcessorCount;

    /// <summary>The largest UDP reply, advertised in our OPT; 1232 avoids fragmentation (DNS Flag Day 2020).</summary>
    public int MaxUdpPayloadSize { get; init; } = 1232;

    /// <summary>A TCP connection with no complete query for this long is closed (RFC 7766 6.2.3).</summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections beyond this are closed on accept.</summary>
    public int MaxTcpConnections { get; init; } = 1024;

    /// <summary>
    /// Makes the listening sockets. The default makes them in this process's network namespace; the pod-facing
    /// listener of <c>up</c> makes them inside the node's namespace.
    /// </summary>
    public Func<AddressFamily, SocketType, ProtocolType, Socket> CreateSocket { get; init; } = static (family, type, protocol) => new Socket(family, type, protocol);

    /// <summary>Names outside the cluster zones go upstream with these settings; null: they are refused.</summary>
    public ForwarderOptions? Forwarding { get; init; }
}
