using Microsoft.Extensions.Logging;

namespace Switchboard.Storage.Sqlite;

internal static partial class SqliteStoreLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Opened store {Path} at revision {Revision} (compacted {Compacted}) with {Keys} live keys")]
    public static partial void Opened(this ILogger logger, string path, long revision, long compacted, int keys);

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing a batch of {Count} writes failed; they are failed with Unavailable")]
    public static partial void BatchFailed(this ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} watchers fell behind by more than {Buffer} events and were canceled")]
    public static partial void WatchersOverflowed(this ILogger logger, int count, int buffer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Deleted the superseded history below revision {Revision}")]
    public static partial void Compacted(this ILogger logger, long revision);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Count} keys expired")]
    public static partial void KeysExpired(this ILogger logger, int count);
}
