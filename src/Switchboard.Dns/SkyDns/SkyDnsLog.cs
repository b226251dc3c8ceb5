using Microsoft.Extensions.Logging;
using Switchboard.Storage;

namespace Switchboard.Dns.SkyDns;

internal static partial class SkyDnsLog
{
    [LoggerMessage(EventId = 3040, Level = LogLevel.Information, Message = "SkyDNS zone loaded {Count} records at revision {Revision}")]
    public static partial void Loaded(ILogger logger, int count, long revision);

    [LoggerMessage(EventId = 3041, Level = LogLevel.Information, Message = "SkyDNS watch ended ({Reason}); listing again")]
    public static partial void Relisting(ILogger logger, StorageError reason);

    [LoggerMessage(EventId = 3042, Level = LogLevel.Warning, Message = "SkyDNS store read failed; retrying")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3043, Level = LogLevel.Warning, Message = "SkyDNS mirror could not write service {Service}; retrying")]
    public static partial void MirrorFailed(ILogger logger, string service, Exception exception);
}
