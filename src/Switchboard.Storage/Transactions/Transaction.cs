namespace Switchboard.Storage;

/// <summary>
/// An etcd transaction for <see cref="IKeyValueStore.TxnAsync"/>: if every compare holds, the success operations run,
/// else the failure ones; all of its writes are one store revision, so a watcher sees them together or not at all.
/// </summary>
/// <param name="Compares">The conditions, all of which must hold.</param>
/// <param name="Success">What runs when they hold, in order.</param>
/// <param name="Failure">What runs when one does not.</param>
public sealed record Transaction(IReadOnlyList<TxnCompare> Compares, IReadOnlyList<TxnOperation> Success, IReadOnlyList<TxnOperation> Failure) : TxnOperation
{
    /// <summary>
    /// Checks what etcd checks before it runs a transaction: valid keys and values, and no key written twice in one
    /// branch (two puts, or a put inside a deleted range), which would leave the revision's outcome ambiguous.
    /// </summary>
    public void Validate()
    {
        foreach (var compare in Compares)
        {
            StorageLimits.ValidateKey(compare.Key);
        }

        ValidateBranch(Success, []);
        ValidateBranch(Failure, []);
    }

    private static void ValidateBranch(IReadOnlyList<TxnOperation> operations, HashSet<string> written)
    {
        var deletes = new List<TxnDelete>();
        foreach (var operation in operations)
        {
            switch (operation)
            {
                case TxnPut put:
                    StorageLimits.ValidateKey(put.Key);
                    StorageLimits.ValidateValue(put.Key, put.Value);
                    StorageLimits.ValidateTimeToLive(put.Key, put.TimeToLive);
                    if (put.TimeToLive is not null && put.Lease != 0)
                    {
                        throw new StorageException(StorageError.InvalidArgument, "a put has either a time to live or a lease, not both", put.Key);
                    }

                    if (!written.Add(put.Key))
                    {
                        throw Duplicate(put.Key);
                    }

                    break;
                case TxnDelete delete:
                    StorageLimits.ValidateKey(delete.Key);
                    deletes.Add(delete);
                    break;
                case TxnRange range:
                    StorageLimits.ValidateKey(range.Key);
                    if (range.Limit < 0)
                    {
                        throw new StorageException(StorageError.InvalidArgument, $"range limit {range.Limit} is negative", range.Key);
                    }

                    break;
                case Transaction nested:
                    foreach (var compare in nested.Compares)
                    {
                        StorageLimits.ValidateKey(compare.Key);
                    }

                    ValidateBranch(nested.Success, [.. written]);
                    ValidateBranch(nested.Failure, [.. written]);
                    break;
            }
        }

        foreach (var delete in deletes)
        {
            if (written.FirstOrDefault(delete.Covers) is { } key)
            {
                throw Duplicate(key);
            }
        }
    }

    private static StorageException Duplicate(string key) => new(StorageError.InvalidArgument, "duplicate key given in txn request", key);
}

/// <summary>One operation of a <see cref="Transaction"/>: <see cref="TxnPut"/>, <see cref="TxnDelete"/>, <see cref="TxnRange"/> or a nested <see cref="Transaction"/>.</summary>
public abstract record TxnOperation;

/// <summary>Creates or replaces <paramref name="Key"/>, attached to <paramref name="Lease"/> (0: none) or with its own time to live.</summary>
public sealed record TxnPut(string Key, byte[] Value, TimeSpan? TimeToLive = null, long Lease = 0) : TxnOperation;

/// <summary>
/// Deletes <paramref name="Key"/>, or with <paramref name="RangeEnd"/> every key in [Key, RangeEnd) (etcd's convention:
/// a range end of "\0" means every key from Key on).
/// </summary>
public sealed record TxnDelete(string Key, string? RangeEnd = null) : TxnOperation
{
    /// <summary>Whether <paramref name="key"/> is one this delete removes.</summary>
    public bool Covers(string key) => KeyInterval.Contains(Key, RangeEnd, key);
}

/// <summary>Reads <paramref name="Key"/>, or the keys in [Key, RangeEnd), as of the transaction's writes before it; at most <paramref name="Limit"/> (0: all).</summary>
public sealed record TxnRange(string Key, string? RangeEnd = null, long Limit = 0) : TxnOperation;

/// <summary>What a <see cref="TxnCompare"/> looks at.</summary>
public enum CompareTarget
{
    Version,
    CreateRevision,
    ModRevision,
    Value,

    /// <summary>The lease the key is attached to (0: none).</summary>
    Lease,
}

/// <summary>How a <see cref="TxnCompare"/> compares.</summary>
public enum CompareOperator
{
    Equal,
    NotEqual,
    Greater,
    Less,
}

/// <summary>
/// A condition on one key, as etcd's Compare: a missing key has version, create and mod revision 0, and a comparison
/// of its value never holds.
/// </summary>
public sealed record TxnCompare(string Key, CompareTarget Target, CompareOperator Operator, long Number = 0, byte[]? Value = null)
{
    /// <summary>Whether the condition holds for <paramref name="current"/> (null: the key does not exist).</summary>
    public bool Holds(KeyValue? current)
    {
        int order;
        if (Target == CompareTarget.Value)
        {
            if (current is null)
            {
                return false;
            }

            order = current.Value.AsSpan().SequenceCompareTo(Value ?? []);
        }
        else
        {
            long actual = Target switch
            {
                CompareTarget.Version => current?.Version ?? 0,
                CompareTarget.CreateRevision => current?.CreateRevision ?? 0,
                CompareTarget.Lease => current?.Lease ?? 0,
                _ => current?.ModRevision ?? 0,
            };
            order = actual.CompareTo(Number);
        }

        return Operator switch
        {
            CompareOperator.Equal => order == 0,
            CompareOperator.NotEqual => order != 0,
            CompareOperator.Greater => order > 0,
            _ => order < 0,
        };
    }
}

/// <summary>The answer of <see cref="IKeyValueStore.TxnAsync"/>.</summary>
/// <param name="Succeeded">Whether the compares held (the success branch ran).</param>
/// <param name="Revision">The store revision after the transaction: its writes' revision, or the current one if it wrote nothing.</param>
/// <param name="Results">One result per operation of the branch that ran, in order.</param>
public sealed record TxnResult(bool Succeeded, long Revision, IReadOnlyList<TxnOperationResult> Results) : TxnOperationResult;

/// <summary>The result of one <see cref="TxnOperation"/>.</summary>
public abstract record TxnOperationResult;

/// <summary>A put: the key as written and as it was before (null if new).</summary>
public sealed record TxnPutResult(KeyValue Current, KeyValue? Previous) : TxnOperationResult;

/// <summary>A delete: the keys it removed, as they were.</summary>
public sealed record TxnDeleteResult(IReadOnlyList<KeyValue> Deleted) : TxnOperationResult;

/// <summary>A range: the keys in key order, whether the limit cut some, and how many matched in all.</summary>
public sealed record TxnRangeResult(IReadOnlyList<KeyValue> Items, bool More, long Count) : TxnOperationResult;
