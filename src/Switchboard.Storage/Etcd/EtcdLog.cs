using Microsoft.Extensions.Logging;

namespace Switchboard.Storage.Etcd;

internal static partial class EtcdLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Talking to etcd at {Endpoints}")]
    public static partial void Connecting(this ILogger logger, string endpoints);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watch of '{Prefix}' lost its etcd member ({Reason}); resuming after revision {Revision}")]
    public static partial void WatchBroken(this ILogger logger, string prefix, long revision, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch of '{Prefix}' resumed after revision {Revision} on etcd member {MemberId:x}")]
    public static partial void WatchResumed(this ILogger logger, string prefix, long revision, ulong memberId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not revoke unused lease {LeaseId:x}; it expires by itself")]
    public static partial void LeaseRevokeFailed(this ILogger logger, long leaseId, Exception error);
}
