namespace Switchboard.Storage;

/// <summary>The failures of <see cref="IKeyValueStore"/> a caller can act on.</summary>
public enum StorageError
{
    /// <summary>Create of a key that exists.</summary>
    KeyExists,

    /// <summary>Update or delete of a key that does not exist.</summary>
    KeyNotFound,

    /// <summary>Compare-and-swap failed: the key's mod revision is not the expected one.</summary>
    RevisionMismatch,

    /// <summary>The requested revision is below the compacted revision; its history is gone.</summary>
    Compacted,

    /// <summary>The requested revision is above the store's current revision.</summary>
    FutureRevision,

    /// <summary>An empty key, a key over the size limit or a value over the size limit.</summary>
    InvalidArgument,

    /// <summary>A watch was ended by the store (its consumer fell behind); resume from the given revision.</summary>
    WatchCanceled,

    /// <summary>The store cannot be reached or has been disposed.</summary>
    Unavailable,

    /// <summary>A put or a revoke names a lease the store does not have (never granted, revoked or expired).</summary>
    LeaseNotFound,
}
