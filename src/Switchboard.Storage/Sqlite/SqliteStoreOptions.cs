namespace Switchboard.Storage.Sqlite;

/// <summary>Tuning of <see cref="SqliteKeyValueStore"/>.</summary>
public sealed record SqliteStoreOptions
{
    /// <summary>
    /// How often history is compacted, each time up to the revision that was current one interval earlier
    /// (as kube-apiserver's compactor does). <see cref="TimeSpan.Zero"/> turns automatic compaction off.
    /// </summary>
    public TimeSpan CompactionInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How many live events a watcher may have unread before its watch is canceled.</summary>
    public int WatchBufferSize { get; init; } = 1024;

    /// <summary>How often keys whose time to live has passed are looked for and deleted.</summary>
    public TimeSpan ExpirySweepInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>At most this many queued writes are committed in one transaction.</summary>
    public int MaxBatchSize { get; init; } = 1024;
}
