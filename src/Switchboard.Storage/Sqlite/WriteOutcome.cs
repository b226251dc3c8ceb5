namespace Switchboard.Storage.Sqlite;

/// <summary>What a committed <see cref="WriteOperation"/> produced.</summary>
/// <param name="Current">The key as written (null for a delete).</param>
/// <param name="Previous">The key before the write (null if it did not exist).</param>
/// <param name="Revision">The revision of the write; for a compaction chunk, where the next chunk starts.</param>
/// <param name="Transaction">For a transaction: its result.</param>
/// <param name="Lease">For a lease grant: the lease's id.</param>
internal readonly record struct WriteOutcome(KeyValue? Current, KeyValue? Previous, long Revision, TxnResult? Transaction = null, long Lease = 0);
