namespace Switchboard.Storage.Sqlite;

/// <summary>What a queued <see cref="WriteOperation"/> does.</summary>
internal enum WriteKind
{
    Create,
    Update,
    Put,
    Delete,

    /// <summary>An etcd transaction: compares, then one branch of puts, deletes and ranges, all at one revision.</summary>
    Transaction,

    /// <summary>Records a new compacted revision (the history is deleted by the chunks that follow).</summary>
    Compact,

    /// <summary>Deletes one chunk of superseded history below a compacted revision.</summary>
    CompactChunk,

    /// <summary>Deletes the keys whose time to live has passed, and the expired leases with their keys.</summary>
    Sweep,

    /// <summary>Stores a new lease.</summary>
    LeaseGrant,

    /// <summary>Removes a lease and deletes its keys at one revision.</summary>
    LeaseRevoke,
}
