namespace Switchboard.Storage.Sqlite;

/// <summary>Why a <see cref="WatchSubscription"/> stopped receiving events.</summary>
internal enum WatchCloseReason
{
    None,

    /// <summary>The watcher did not keep up and its buffer overflowed.</summary>
    Overflow,

    /// <summary>The store was disposed.</summary>
    StoreClosed,
}
