namespace Switchboard.Storage.Sqlite;

/// <summary>One write queued for the writer loop, completed once its transaction is durable.</summary>
internal sealed class WriteOperation
{
    private readonly TaskCompletionSource<WriteOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WriteOperation(
        WriteKind kind, string key, byte[] value, long? expectedModRevision, TimeSpan? timeToLive, long target, long from, CancellationToken cancellationToken, Transaction? transaction = null, long lease = 0, long leaseTtl = 0)
    {
        Lease = lease;
        LeaseTtl = leaseTtl;
        Transaction = transaction;
        Kind = kind;
        Key = key;
        Value = value;
        ExpectedModRevision = expectedModRevision;
        TimeToLive = timeToLive;
        Target = target;
        From = from;
        CancellationToken = cancellationToken;
    }

    public WriteKind Kind { get; }

    public string Key { get; }

    public byte[] Value { get; }

    /// <summary>For updates and deletes: the mod revision the key must have.</summary>
    public long? ExpectedModRevision { get; }

    public TimeSpan? TimeToLive { get; }

    /// <summary>For compaction: the revision to compact to.</summary>
    public long Target { get; }

    /// <summary>For a compaction chunk: the lowest revision it looks at.</summary>
    public long From { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>For a transaction: what it compares and does.</summary>
    public Transaction? Transaction { get; }

    /// <summary>For a lease grant or revoke: the lease (for a grant, 0 lets the writer pick one).</summary>
    public long Lease { get; }

    /// <summary>For a lease grant: its TTL in seconds.</summary>
    public long LeaseTtl { get; }

    public Task<WriteOutcome> Task => _completion.Task;

    public static WriteOperation ForKey(WriteKind kind, string key, byte[] value, long? expectedModRevision, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        new(kind, key, value, expectedModRevision, timeToLive, 0, 0, cancellationToken);

    public static WriteOperation ForTransaction(Transaction transaction, CancellationToken cancellationToken) =>
        new(WriteKind.Transaction, string.Empty, [], null, null, 0, 0, cancellationToken, transaction);

    public static WriteOperation Compact(long target, CancellationToken cancellationToken) =>
        new(WriteKind.Compact, string.Empty, [], null, null, target, 0, cancellationToken);

    public static WriteOperation CompactChunk(long target, long from) =>
        new(WriteKind.CompactChunk, string.Empty, [], null, null, target, from, CancellationToken.None);

    public static WriteOperation Sweep() =>
        new(WriteKind.Sweep, string.Empty, [], null, null, 0, 0, CancellationToken.None);

    public static WriteOperation GrantLease(long id, long ttl, CancellationToken cancellationToken) =>
        new(WriteKind.LeaseGrant, string.Empty, [], null, null, 0, 0, cancellationToken, lease: id, leaseTtl: ttl);

    public static WriteOperation RevokeLease(long id, CancellationToken cancellationToken) =>
        new(WriteKind.LeaseRevoke, string.Empty, [], null, null, 0, 0, cancellationToken, lease: id);

    public void Succeed(WriteOutcome outcome) => _completion.TrySetResult(outcome);

    public void Fail(Exception exception) => _completion.TrySetException(exception);

    public void Cancel() => _completion.TrySetCanceled(CancellationToken);
}
