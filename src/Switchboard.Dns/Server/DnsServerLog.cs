using System.Net;
using Microsoft.Extensions.Logging;

namespace Switchboard.Dns.Server;

internal static partial class DnsServerLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "DNS serving on {EndPoint} (UDP x{UdpSockets}, TCP)")]
    public static partial void Started(ILogger logger, IPEndPoint endPoint, int udpSockets);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "DNS UDP receive failed")]
    public static partial void UdpReceiveFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "DNS UDP send to {Client} failed")]
    public static partial void UdpSendFailed(ILogger logger, string client, Exception exception);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "DNS query handling failed; the query was dropped")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "DNS TCP connection from {Client} closed: {Reason}")]
    public static partial void TcpClosed(ILogger logger, EndPoint? client, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "DNS TCP connection limit {Limit} reached; closing a new connection")]
    public static partial void TcpLimitReached(ILogger logger, int limit);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "DNS TCP accept failed")]
    public static partial void TcpAcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "{Client} {Transport} {Name} {Type} {Rcode} {Size}B {Milliseconds:0.###}ms")]
    public static partial void Query(ILogger logger, string client, string transport, string name, string type, string rcode, int size, double milliseconds);
}
