using Microsoft.Extensions.Logging;

namespace Switchboard.Storage.Sqlite;

internal static partial class SqliteStoreLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Opened store {Path} at revision {Revision} (compacted {Compacted}) with {Keys} live keys")]
    public static partial void Opened(ILogger logger, string path, long revision, long compacted, int keys);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Committing a batch of {Count} writes failed; they are failed with Unavailable")]
    public static partial void BatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "{Count} watchers fell behind by more than {Buffer} events and were canceled")]
    public static partial void WatchersOverflowed(ILogger logger, int count, int buffer);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Deleted the superseded history below revision {Revision}")]
    public static partial void Compacted(ILogger logger, long revision);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "{Count} keys expired")]
    public static partial void KeysExpired(ILogger logger, int count);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Debug, Message = "Lease {Lease:x} expired; its keys were deleted")]
    public static partial void LeaseExpired(ILogger logger, long lease);
}
