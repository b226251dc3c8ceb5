using Microsoft.Extensions.Logging;

namespace Switchboard.Storage.Etcd;

internal static partial class EtcdLog
{
    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "Talking to etcd at {Endpoints}")]
    public static partial void Connecting(ILogger logger, string endpoints);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Warning, Message = "Watch of '{Prefix}' lost its etcd member ({Reason}); resuming after revision {Revision}")]
    public static partial void WatchBroken(ILogger logger, string prefix, long revision, string reason);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Information, Message = "Watch of '{Prefix}' resumed after revision {Revision} on etcd member {MemberId:x}")]
    public static partial void WatchResumed(ILogger logger, string prefix, long revision, ulong memberId);

    [LoggerMessage(EventId = 4023, Level = LogLevel.Debug, Message = "Could not revoke unused lease {LeaseId:x}; it expires by itself")]
    public static partial void LeaseRevokeFailed(ILogger logger, long leaseId, Exception error);
}
