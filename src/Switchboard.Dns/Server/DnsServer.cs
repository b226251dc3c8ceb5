using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.Zones;

namespace Switchboard.Dns.Server;

/// <summary>The cluster DNS server: UDP and TCP on one port, answering from a <see cref="ClusterDnsIndex"/>.</summary>
public sealed class DnsServer : IAsyncDisposable
{
    private const int PortAttempts = 10;

    private readonly DnsUdpServer _udp;
    private readonly DnsTcpServer _tcp;

    private DnsServer(DnsUdpServer udp, DnsTcpServer tcp)
    {
        _udp = udp;
        _tcp = tcp;
    }

    /// <summary>The bound address; the port is the same for UDP and TCP.</summary>
    public IPEndPoint EndPoint => _udp.LocalEndPoint;

    public static DnsServer Start(ClusterDnsIndex index, DnsServerOptions options, TimeProvider timeProvider, ILogger<DnsServer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ILogger log = logger ?? NullLogger<DnsServer>.Instance;
        DnsForwarder? forwarder = options.Forwarding is { } forwarding ? new DnsForwarder(forwarding, options.MaxUdpPayloadSize, timeProvider, log) : null;
        return Start(index, options, timeProvider, log, new DnsServerParts(Forwarder: forwarder));
    }

    /// <summary>A server sharing parts (forwarder and its cache, SkyDNS zone, metrics) with other listeners.</summary>
    internal static DnsServer Start(ClusterDnsIndex index, DnsServerOptions options, TimeProvider timeProvider, ILogger? logger, DnsServerParts parts)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ILogger log = logger ?? NullLogger<DnsServer>.Instance;
        DnsForwarder? forwarder = parts.Forwarder;
        var handler = new DnsQueryHandler(index, options.MaxUdpPayloadSize, forwarder is not null, parts.SkyDns);
        DnsObserver? observer = parts.Metrics is not null || parts.QueryLog || parts.Trace is not null ? new DnsObserver(parts.Metrics, log, parts.QueryLog, parts.Trace) : null;

        // With port 0 the UDP port is picked first; it may be taken for TCP, so try again with another.
        for (int attempt = 1; ; attempt++)
        {
            DnsUdpServer udp = DnsUdpServer.Start(options, options.EndPoint, handler, forwarder, observer, parts.RateLimit, log);
            try
            {
                DnsTcpServer tcp = DnsTcpServer.Start(udp.LocalEndPoint, handler, forwarder, observer, options, timeProvider, log);
                DnsServerLog.Started(log, udp.LocalEndPoint, options.UdpSockets);
                return new DnsServer(udp, tcp);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && options.EndPoint.Port == 0 && attempt < PortAttempts)
            {
                udp.Dispose();
            }
            catch
            {
                udp.Dispose();
                throw;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _udp.Dispose();
        await _tcp.DisposeAsync();
    }
}
