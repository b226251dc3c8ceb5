namespace Switchboard.Storage;

/// <summary>
/// A key-value store with etcd v3 semantics: one store revision incremented by every write,
/// per-key create/mod revision and version, compare-and-swap on mod revision, ordered watch
/// from a revision, compaction and keys with a time to live.
/// Every failure the caller can act on is a <see cref="StorageException"/> with a <see cref="StorageError"/>.
/// </summary>
public interface IKeyValueStore : IAsyncDisposable
{
    /// <summary>The revision of the last write (0 for a new embedded store; a new etcd starts at 1).</summary>
    Task<long> GetRevisionAsync(CancellationToken cancellationToken = default);

    /// <summary>The live value of <paramref name="key"/>, or null.</summary>
    Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// The keys starting with <paramref name="prefix"/> in key order, as of <see cref="RangeOptions.Revision"/>
    /// (0: now), handed to <paramref name="visitor"/> one at a time as they are read (at most
    /// <see cref="RangeOptions.Limit"/>). Fails with <see cref="StorageError.Compacted"/> below the compacted revision and
    /// <see cref="StorageError.FutureRevision"/> above the current one; <see cref="KeyValueStoreExtensions.RangeAsync"/>
    /// gives the keys as a list.
    /// </summary>
    Task<RangeSummary> RangeAsync(string prefix, RangeOptions options, IRangeVisitor visitor, CancellationToken cancellationToken = default);

    /// <summary>How many live keys start with <paramref name="prefix"/>.</summary>
    Task<long> CountAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Creates <paramref name="key"/>; fails with <see cref="StorageError.KeyExists"/> if it exists.</summary>
    Task<KeyValue> CreateAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the value of an existing key if its mod revision is <paramref name="expectedModRevision"/>;
    /// fails with <see cref="StorageError.KeyNotFound"/> or <see cref="StorageError.RevisionMismatch"/>
    /// (carrying the current value).
    /// </summary>
    Task<KeyValue> UpdateAsync(string key, byte[] value, long expectedModRevision, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces <paramref name="key"/> unconditionally.</summary>
    Task<KeyValue> PutAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes <paramref name="key"/>, if given only when its mod revision is <paramref name="expectedModRevision"/>.
    /// Returns the deleted value and the revision of the delete.
    /// </summary>
    Task<DeleteResult> DeleteAsync(string key, long? expectedModRevision = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every change to a key starting with <paramref name="prefix"/> after <paramref name="afterRevision"/>,
    /// in revision order, none lost or duplicated. Fails with <see cref="StorageError.Compacted"/> if that
    /// history is gone, and with <see cref="StorageError.WatchCanceled"/> if the consumer falls too far behind
    /// (the exception's <see cref="StorageException.Revision"/> is the last revision delivered, to resume from).
    /// </summary>
    IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="WatchAsync(string, long, CancellationToken)"/>, and after each <paramref name="progressInterval"/>
    /// without a change, a <see cref="WatchEventType.Progress"/> event at a revision up to which every change has been
    /// given (when the store has moved on since the last one): a watch of keys nobody writes learns how far the store
    /// has gone while other keys change, so it can resume from there after compaction passes its last change, as
    /// kube-apiserver's watch cache follows etcd's progress notifications. An infinite interval is no progress.
    /// </summary>
    IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, TimeSpan progressInterval, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="transaction"/> atomically: its compares and the branch they choose see one state, and all
    /// its writes are one revision. Fails with <see cref="StorageError.InvalidArgument"/> (nothing written) for an
    /// invalid key or value or a key written twice in one branch.
    /// </summary>
    Task<TxnResult> TxnAsync(Transaction transaction, CancellationToken cancellationToken = default);

    /// <summary>
    /// etcd's LeaseGrant: a lease of <paramref name="ttlSeconds"/> (<paramref name="id"/> 0: an id the store picks) that
    /// keys are attached to by <see cref="TxnPut.Lease"/>. It is durable: after a restart it counts its TTL afresh, as
    /// etcd's lessor does on a new leader. Fails with <see cref="StorageError.KeyExists"/> if the id is taken.
    /// </summary>
    Task<long> GrantLeaseAsync(long id, long ttlSeconds, CancellationToken cancellationToken = default);

    /// <summary>Starts the lease's TTL again; returns the TTL, or 0 when there is no such lease.</summary>
    Task<long> KeepAliveLeaseAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends the lease and deletes every key still attached to it, all at one revision (as an expiry does). Fails with
    /// <see cref="StorageError.LeaseNotFound"/> if there is no such lease.
    /// </summary>
    Task RevokeLeaseAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>The lease with its TTLs and attached keys, or null when there is no such lease.</summary>
    Task<LeaseInfo?> GetLeaseAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>The ids of the live leases.</summary>
    Task<IReadOnlyList<long>> ListLeasesAsync(CancellationToken cancellationToken = default);

    /// <summary>Discards the history before <paramref name="revision"/>; the live values stay.</summary>
    Task CompactAsync(long revision, CancellationToken cancellationToken = default);

    /// <summary>The revision up to which history has been compacted (0 if never).</summary>
    Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken = default);
}
