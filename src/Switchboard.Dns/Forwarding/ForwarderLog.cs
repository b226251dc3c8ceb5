using System.Net;
using Microsoft.Extensions.Logging;

namespace Switchboard.Dns.Forwarding;

internal static partial class ForwarderLog
{
    [LoggerMessage(EventId = 3020, Level = LogLevel.Information, Message = "DNS forwarding names outside the cluster to {Upstreams}")]
    public static partial void Forwarding(ILogger logger, string upstreams);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Warning, Message = "DNS upstream {Upstream} did not answer within {Timeout}")]
    public static partial void UpstreamTimedOut(ILogger logger, IPEndPoint upstream, TimeSpan timeout);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "DNS upstream {Upstream} failed: {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, IPEndPoint upstream, string reason);

    [LoggerMessage(EventId = 3023, Level = LogLevel.Debug, Message = "DNS forwarding refused for {Client}: not loopback nor a cluster network")]
    public static partial void Refused(ILogger logger, IPAddress client);

    [LoggerMessage(EventId = 3024, Level = LogLevel.Warning, Message = "DNS forwarding has no upstream: /etc/resolv.conf names none and none was given")]
    public static partial void NoUpstream(ILogger logger);
}
