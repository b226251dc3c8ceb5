using System.Collections.Concurrent;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Switchboard.Storage.Sqlite;

/// <summary>
/// The single writer: a dedicated thread takes every queued write, applies them in order in one transaction
/// (each its own revision; a failed compare-and-swap writes nothing), commits once (one fsync), then
/// publishes the watch events and completes the callers' tasks. Compare-and-swap is checked against an
/// in-memory index of the live keys, so the transaction only inserts. Leases are granted and revoked through the
/// same loop, so a put naming a lease and the lease's revocation are ordered like any two writes.
/// </summary>
internal sealed class SqliteWriter : IDisposable
{
    // Compaction deletes history in chunks of this many rows, so writes queued meanwhile wait little.
    private const int CompactionChunkRows = 4096;

    // A batch stops growing past this many bytes of values, bounding one transaction's size.
    private const long MaxBatchBytes = 16 * 1024 * 1024;

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _begin;
    private readonly SqliteCommand _commit;
    private readonly SqliteCommand _rollback;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _setMeta;
    private readonly SqliteCommand _chunkEnd;
    private readonly SqliteCommand _deleteChunk;
    private readonly SqliteCommand _liveKeys;
    private readonly SqliteCommand _valueAt;
    private readonly SqliteCommand _insertLease;
    private readonly SqliteCommand _deleteLease;

    // The live keys without their values, which the log holds: a write that needs a key's previous value (an update's
    // watch event, a delete's answer) reads it back by its revision. Keeping every value here too cost the whole data
    // set twice: 10 MB of the heap of `up` with 10,000 Services.
    private readonly Dictionary<string, LiveKey> _index = new(StringComparer.Ordinal);
    private readonly PriorityQueue<(string Key, long ModRevision), long> _expiries = new();
    private readonly BlockingCollection<WriteOperation> _queue = [];
    private readonly WatchHub _hub;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxBatch;
    private readonly int _watchBuffer;
    private readonly Thread _thread;

    // The state of the batch being applied; it becomes the store's state only once committed.
    private readonly Dictionary<string, KeyValue?> _staged = new(StringComparer.Ordinal);
    private readonly List<WatchEvent> _events = [];
    private readonly List<(WriteOperation Operation, WriteOutcome Outcome, Exception? Error)> _results = [];
    private readonly List<((string Key, long ModRevision) Entry, long ExpiresAt)> _newExpiries = [];
    private readonly List<((string Key, long ModRevision) Entry, long ExpiresAt)> _dueExpiries = [];

    // Leases granted (their TTL) or revoked (null) by the batch.
    private readonly Dictionary<long, long?> _stagedLeases = [];
    private long _batchRevision;
    private long _batchCompacted;

    private long _revision;
    private long _compacted;
    private int _sweepQueued;
    private long _commits;

    public SqliteWriter(string path, WatchHub hub, TimeProvider time, ILogger logger, int maxBatch, int watchBuffer)
    {
        _hub = hub;
        _time = time;
        _logger = logger;
        _maxBatch = maxBatch;
        _watchBuffer = watchBuffer;
        Leases = new LeaseTable(time);
        _connection = SqliteDatabase.OpenWriter(path);
        try
        {
            _begin = SqliteDatabase.Prepare(_connection, "BEGIN IMMEDIATE");
            _commit = SqliteDatabase.Prepare(_connection, "COMMIT");
            _rollback = SqliteDatabase.Prepare(_connection, "ROLLBACK");
            _insert = SqliteDatabase.Prepare(
                _connection,
                """
                INSERT INTO kv_log (revision, key, value, create_revision, prev_revision, version, deleted, expires_at, lease)
                VALUES ($revision, $key, $value, $create_revision, $prev_revision, $version, $deleted, $expires_at, $lease)
                """,
                "$revision", "$key", "$value", "$create_revision", "$prev_revision", "$version", "$deleted", "$expires_at", "$lease");
            _setMeta = SqliteDatabase.Prepare(_connection, "UPDATE kv_meta SET value = $value WHERE name = $name", "$value", "$name");
            _chunkEnd = SqliteDatabase.Prepare(
                _connection,
                $"SELECT revision FROM kv_log WHERE revision >= $from AND revision < $target ORDER BY revision LIMIT 1 OFFSET {CompactionChunkRows}",
                "$from", "$target");

            // A row below the target goes if it is a tombstone or a newer row below the target supersedes it:
            // what stays is the state just before the target plus every later change, so a watch from the
            // target still finds each event's previous value.
            _deleteChunk = SqliteDatabase.Prepare(
                _connection,
                """
                DELETE FROM kv_log WHERE revision >= $from AND revision < $end AND (deleted = 1 OR EXISTS (
                    SELECT 1 FROM kv_log n WHERE n.key = kv_log.key AND n.revision > kv_log.revision AND n.revision < $target))
                """,
                "$from", "$end", "$target");

            // The keys of a range the log has seen, its uncommitted rows included (a scan of the key index); which of
            // them are live, the staged state and the index of live keys tell.
            _liveKeys = SqliteDatabase.Prepare(_connection, "SELECT DISTINCT key FROM kv_log WHERE key >= $low AND key < $high ORDER BY key", "$low", "$high");
            _valueAt = SqliteDatabase.Prepare(_connection, "SELECT value FROM kv_log WHERE key = $key AND revision = $revision", "$key", "$revision");
            _insertLease = SqliteDatabase.Prepare(_connection, "INSERT INTO kv_lease (id, ttl) VALUES ($id, $ttl)", "$id", "$ttl");
            _deleteLease = SqliteDatabase.Prepare(_connection, "DELETE FROM kv_lease WHERE id = $id", "$id");
            Load();
            _hub.Passed(_revision);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "sqlite-store-writer" };
        _thread.Start();
    }

    /// <summary>The revision of the last committed write.</summary>
    public long Revision => Volatile.Read(ref _revision);

    public long CompactedRevision => Volatile.Read(ref _compacted);

    public int LiveKeys { get; private set; }

    public long SynchronousLevel { get; private set; }

    /// <summary>The committed leases.</summary>
    public LeaseTable Leases { get; }

    /// <summary>How many transactions have been committed since the store was opened.</summary>
    public long Commits => Volatile.Read(ref _commits);

    /// <summary>Queues <paramref name="operation"/>; fails with <see cref="StorageError.Unavailable"/> once the writer stops.</summary>
    public Task<WriteOutcome> Enqueue(WriteOperation operation)
    {
        try
        {
            _queue.Add(operation);
        }
        catch (InvalidOperationException)
        {
            operation.Fail(new StorageException(StorageError.Unavailable, "the store is closed", operation.Key));
        }

        return operation.Task;
    }

    /// <summary>Queues a sweep for expired keys unless one is already waiting.</summary>
    public void RequestSweep()
    {
        if (Interlocked.Exchange(ref _sweepQueued, 1) == 0)
        {
            _ = Enqueue(WriteOperation.Sweep());
        }
    }

    /// <summary>Sweeps for expired keys once every write queued before has been applied.</summary>
    public Task SweepAsync() => Enqueue(WriteOperation.Sweep());

    /// <summary>Stops taking writes, commits the ones already queued and closes the connection.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        foreach (var command in new[] { _begin, _commit, _rollback, _insert, _setMeta, _chunkEnd, _deleteChunk, _liveKeys, _valueAt, _insertLease, _deleteLease })
        {
            command.Dispose();
        }

        _connection.Dispose();
        _queue.Dispose();
    }

    private void Load()
    {
        using (var synchronous = _connection.CreateCommand())
        {
            synchronous.CommandText = "PRAGMA synchronous";
            SynchronousLevel = (long)synchronous.ExecuteScalar()!;
        }

        using (var meta = _connection.CreateCommand())
        {
            meta.CommandText = "SELECT name, value FROM kv_meta";
            using var reader = meta.ExecuteReader();
            while (reader.Read())
            {
                switch (reader.GetString(0))
                {
                    case SqliteDatabase.RevisionName:
                        _revision = reader.GetInt64(1);
                        break;
                    case SqliteDatabase.CompactedName:
                        _compacted = reader.GetInt64(1);
                        break;
                }
            }
        }

        using (var leases = _connection.CreateCommand())
        {
            leases.CommandText = "SELECT id, ttl FROM kv_lease";
            using var reader = leases.ExecuteReader();
            while (reader.Read())
            {
                Leases.Add(reader.GetInt64(0), reader.GetInt64(1));
            }
        }

        using var live = _connection.CreateCommand();
        live.CommandText = """
            SELECT l.key, l.create_revision, l.revision, l.version, l.lease, l.expires_at FROM kv_log l
            WHERE l.deleted = 0 AND NOT EXISTS (SELECT 1 FROM kv_log n WHERE n.key = l.key AND n.revision > l.revision)
            """;
        using (var reader = live.ExecuteReader())
        {
            while (reader.Read())
            {
                string key = Encoding.UTF8.GetString((byte[])reader.GetValue(0));
                var liveKey = new LiveKey(reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
                _index[key] = liveKey;
                Leases.Move(key, 0, liveKey.Lease);
                if (!reader.IsDBNull(5))
                {
                    _expiries.Enqueue((key, liveKey.ModRevision), reader.GetInt64(5));
                }
            }
        }

        LiveKeys = _index.Count;
    }

    private void Run()
    {
        var batch = new List<WriteOperation>(_maxBatch);
        while (true)
        {
            WriteOperation first;
            try
            {
                first = _queue.Take();
            }
            catch (InvalidOperationException)
            {
                return; // completed and drained
            }

            batch.Add(first);
            long bytes = first.Value.Length;
            while (batch.Count < _maxBatch && bytes < MaxBatchBytes && _queue.TryTake(out var next))
            {
                batch.Add(next);
                bytes += next.Value.Length;
            }

            ExecuteBatch(batch);
            batch.Clear();
        }
    }

    private void ExecuteBatch(List<WriteOperation> batch)
    {
        _staged.Clear();
        _events.Clear();
        _results.Clear();
        _newExpiries.Clear();
        _dueExpiries.Clear();
        _stagedLeases.Clear();
        _batchRevision = _revision;
        _batchCompacted = _compacted;
        try
        {
            _begin.ExecuteNonQuery();
            foreach (var operation in batch)
            {
                Apply(operation);
            }

            if (_batchRevision != _revision)
            {
                SetMeta(SqliteDatabase.RevisionName, _batchRevision);
            }

            _commit.ExecuteNonQuery();
            Interlocked.Increment(ref _commits);
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException)
        {
            Abort(batch, e);
            return;
        }

        Publish();
    }

    private void Abort(List<WriteOperation> batch, Exception e)
    {
        SqliteStoreLog.BatchFailed(_logger, batch.Count, e);
        try
        {
            if (SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0)
            {
                _rollback.ExecuteNonQuery();
            }
        }
        catch (SqliteException rollbackError)
        {
            SqliteStoreLog.BatchFailed(_logger, batch.Count, rollbackError);
        }

        foreach (var (entry, expiresAt) in _dueExpiries)
        {
            _expiries.Enqueue(entry, expiresAt);
        }

        var error = new StorageException(StorageError.Unavailable, $"the write could not be committed: {e.Message}", innerException: e);
        foreach (var operation in batch)
        {
            operation.Fail(error);
        }
    }

    /// <summary>Makes the committed batch the store's state, tells the watchers, then answers the callers.</summary>
    private void Publish()
    {
        foreach (var (id, ttl) in _stagedLeases)
        {
            if (ttl is { } granted)
            {
                Leases.Add(id, granted);
            }
        }

        foreach (var (key, kv) in _staged)
        {
            Leases.Move(key, _index.GetValueOrDefault(key).Lease, kv?.Lease ?? 0);
            if (kv is null)
            {
                _index.Remove(key);
            }
            else
            {
                _index[key] = new LiveKey(kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);
            }
        }

        foreach (var (entry, expiresAt) in _newExpiries)
        {
            _expiries.Enqueue(entry, expiresAt);
        }

        foreach (var (id, ttl) in _stagedLeases)
        {
            if (ttl is null)
            {
                Leases.Remove(id);
            }
        }

        LiveKeys = _index.Count;
        Volatile.Write(ref _compacted, _batchCompacted);
        Volatile.Write(ref _revision, _batchRevision);
        if (_events.Count > 0)
        {
            int overflowed = _hub.Publish(_events);
            if (overflowed > 0)
            {
                SqliteStoreLog.WatchersOverflowed(_logger, overflowed, _watchBuffer);
            }
        }

        _hub.Passed(_batchRevision);

        foreach (var (operation, outcome, error) in _results)
        {
            if (error is OperationCanceledException)
            {
                operation.Cancel();
            }
            else if (error is not null)
            {
                operation.Fail(error);
            }
            else
            {
                operation.Succeed(outcome);
            }
        }
    }

    private void Apply(WriteOperation operation)
    {
        if (operation.CancellationToken.IsCancellationRequested)
        {
            _results.Add((operation, default, new OperationCanceledException(operation.CancellationToken)));
            return;
        }

        var current = operation.Kind is WriteKind.Create or WriteKind.Update or WriteKind.Put or WriteKind.Delete ? Lookup(operation.Key) : null;
        switch (operation.Kind)
        {
            case WriteKind.Create when current is not null:
                Reject(operation, new StorageException(StorageError.KeyExists, $"key '{operation.Key}' already exists", operation.Key, current));
                break;
            case WriteKind.Update or WriteKind.Delete when current is null:
                Reject(operation, new StorageException(StorageError.KeyNotFound, $"key '{operation.Key}' does not exist", operation.Key));
                break;
            case WriteKind.Update or WriteKind.Delete when operation.ExpectedModRevision is { } expected && expected != current!.ModRevision:
                Reject(operation, new StorageException(
                    StorageError.RevisionMismatch,
                    $"key '{operation.Key}' is at mod revision {current.ModRevision}, not {expected}",
                    operation.Key,
                    current));
                break;
            case WriteKind.Create or WriteKind.Update or WriteKind.Put:
                var written = WriteValue(operation.Key, operation.Value, current, operation.TimeToLive, 0, ++_batchRevision);
                _results.Add((operation, new WriteOutcome(written, current, written.ModRevision), null));
                break;
            case WriteKind.Delete:
                _results.Add((operation, new WriteOutcome(null, current, WriteTombstone(current!, ++_batchRevision)), null));
                break;
            case WriteKind.Transaction:
                ApplyTransaction(operation);
                break;
            case WriteKind.Compact:
                ApplyCompact(operation);
                break;
            case WriteKind.CompactChunk:
                ApplyCompactChunk(operation);
                break;
            case WriteKind.Sweep:
                ApplySweep(operation);
                break;
            case WriteKind.LeaseGrant:
                ApplyLeaseGrant(operation);
                break;
            case WriteKind.LeaseRevoke when !LeaseExists(operation.Lease):
                Reject(operation, LeaseNotFound(operation.Lease));
                break;
            case WriteKind.LeaseRevoke:
                _results.Add((operation, new WriteOutcome(null, null, RevokeLease(operation.Lease)), null));
                break;
        }
    }

    private void Reject(WriteOperation operation, StorageException error) => _results.Add((operation, default, error));

    /// <summary>A key's current version as the batch sees it: staged by the batch, else committed (its value read from the log).</summary>
    private KeyValue? Lookup(string key)
    {
        if (_staged.TryGetValue(key, out var staged))
        {
            return staged;
        }

        if (!_index.TryGetValue(key, out var live))
        {
            return null;
        }

        _valueAt.Parameters[0].Value = Encoding.UTF8.GetBytes(key);
        _valueAt.Parameters[1].Value = live.ModRevision;
        var value = _valueAt.ExecuteScalar() as byte[]
            ?? throw new InvalidOperationException($"the log has no row for live key '{key}' at revision {live.ModRevision}");
        return new KeyValue(key, value, live.CreateRevision, live.ModRevision, live.Version, live.Lease);
    }

    private KeyValue WriteValue(string key, byte[] value, KeyValue? previous, TimeSpan? timeToLive, long lease, long revision)
    {
        var written = previous is null
            ? new KeyValue(key, value, revision, revision, 1, lease)
            : new KeyValue(key, value, previous.CreateRevision, revision, previous.Version + 1, lease);
        long? expiresAt = timeToLive is { } ttl ? (_time.GetUtcNow() + ttl).ToUnixTimeMilliseconds() : null;
        Insert(written, previous?.ModRevision ?? 0, deleted: false, expiresAt);
        _staged[key] = written;
        if (expiresAt is { } at)
        {
            _newExpiries.Add(((key, revision), at));
        }

        _events.Add(new WatchEvent(previous is null ? WatchEventType.Created : WatchEventType.Updated, written, previous));
        return written;
    }

    private long WriteTombstone(KeyValue previous, long revision)
    {
        var tombstone = new KeyValue(previous.Key, [], 0, revision, 0);
        Insert(tombstone, previous.ModRevision, deleted: true, expiresAt: null);
        _staged[previous.Key] = null;
        _events.Add(new WatchEvent(WatchEventType.Deleted, tombstone, previous));
        return revision;
    }

    private void Insert(KeyValue kv, long previousRevision, bool deleted, long? expiresAt)
    {
        var parameters = _insert.Parameters;
        parameters[0].Value = kv.ModRevision;
        parameters[1].Value = Encoding.UTF8.GetBytes(kv.Key);
        parameters[2].Value = kv.Value;
        parameters[3].Value = kv.CreateRevision;
        parameters[4].Value = previousRevision;
        parameters[5].Value = kv.Version;
        parameters[6].Value = deleted ? 1L : 0L;
        parameters[7].Value = expiresAt is { } at ? at : DBNull.Value;
        parameters[8].Value = kv.Lease;
        _insert.ExecuteNonQuery();
    }

    private void SetMeta(string name, long value)
    {
        _setMeta.Parameters[0].Value = value;
        _setMeta.Parameters[1].Value = name;
        _setMeta.ExecuteNonQuery();
    }

    /// <summary>
    /// Runs a validated transaction: its compares against the staged state, then the chosen branch, every write at the
    /// one revision after the batch's last. Nothing it does can fail once the compares are read, so it is never half applied.
    /// </summary>
    private void ApplyTransaction(WriteOperation operation)
    {
        // etcd refuses a put naming a lease it does not have before it applies anything.
        if (MissingLease(operation.Transaction!) is { } missing)
        {
            Reject(operation, LeaseNotFound(missing));
            return;
        }

        long revision = _batchRevision + 1;
        bool wrote = false;
        var result = Run(operation.Transaction!);
        if (wrote)
        {
            _batchRevision = revision;
        }

        _results.Add((operation, new WriteOutcome(null, null, _batchRevision, result with { Revision = _batchRevision }), null));

        TxnResult Run(Transaction transaction)
        {
            bool succeeded = transaction.Compares.All(compare => compare.Holds(Lookup(compare.Key)));
            var results = new List<TxnOperationResult>();
            foreach (var step in succeeded ? transaction.Success : transaction.Failure)
            {
                switch (step)
                {
                    case TxnPut put:
                        var previous = Lookup(put.Key);
                        results.Add(new TxnPutResult(WriteValue(put.Key, (byte[])put.Value.Clone(), previous, put.TimeToLive, put.Lease, revision), previous));
                        wrote = true;
                        break;
                    case TxnDelete delete:
                        var deleted = KeysIn(delete.Key, delete.RangeEnd);
                        foreach (var kv in deleted)
                        {
                            WriteTombstone(kv, revision);
                            wrote = true;
                        }

                        results.Add(new TxnDeleteResult(deleted));
                        break;
                    case TxnRange range:
                        var items = KeysIn(range.Key, range.RangeEnd);
                        bool more = range.Limit > 0 && items.Count > range.Limit;
                        results.Add(new TxnRangeResult(more ? items[..(int)range.Limit] : items, more, items.Count));
                        break;
                    case Transaction nested:
                        results.Add(Run(nested));
                        break;
                }
            }

            return new TxnResult(succeeded, 0, results);
        }
    }

    /// <summary>The live keys of [start, end) (the start key alone when <paramref name="end"/> is null), as staged so far.</summary>
    private List<KeyValue> KeysIn(string start, string? end)
    {
        if (end is null)
        {
            return Lookup(start) is { } single ? [single] : [];
        }

        var range = KeyRange.Between(start, end);
        _liveKeys.Parameters[0].Value = range.Low;
        _liveKeys.Parameters[1].Value = range.High;
        var keys = new List<KeyValue>();
        using var reader = _liveKeys.ExecuteReader();
        while (reader.Read())
        {
            if (Lookup(Encoding.UTF8.GetString((byte[])reader.GetValue(0))) is { } kv)
            {
                keys.Add(kv);
            }
        }

        return keys;
    }

    private void ApplyCompact(WriteOperation operation)
    {
        if (operation.Target > _batchRevision)
        {
            Reject(operation, new StorageException(
                StorageError.FutureRevision, $"cannot compact to {operation.Target}, the store is at {_batchRevision}", revision: _batchRevision));
        }
        else if (operation.Target <= _batchCompacted)
        {
            Reject(operation, new StorageException(
                StorageError.Compacted, $"revision {operation.Target} is already compacted (to {_batchCompacted})", revision: _batchCompacted));
        }
        else
        {
            SetMeta(SqliteDatabase.CompactedName, operation.Target);
            _batchCompacted = operation.Target;
            _results.Add((operation, new WriteOutcome(null, null, operation.Target), null));
        }
    }

    private void ApplyCompactChunk(WriteOperation operation)
    {
        _chunkEnd.Parameters[0].Value = operation.From;
        _chunkEnd.Parameters[1].Value = operation.Target;
        long end = _chunkEnd.ExecuteScalar() is long chunkEnd ? chunkEnd : operation.Target;
        _deleteChunk.Parameters[0].Value = operation.From;
        _deleteChunk.Parameters[1].Value = end;
        _deleteChunk.Parameters[2].Value = operation.Target;
        _deleteChunk.ExecuteNonQuery();
        _results.Add((operation, new WriteOutcome(null, null, end), null));
    }

    private void ApplySweep(WriteOperation operation)
    {
        Volatile.Write(ref _sweepQueued, 0);
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        int expired = 0;
        while (_expiries.TryPeek(out var entry, out long expiresAt) && expiresAt <= now)
        {
            _expiries.Dequeue();
            _dueExpiries.Add((entry, expiresAt));

            // A key written again since (or deleted) has a different mod revision: its old expiry is void.
            if (Lookup(entry.Key) is { } current && current.ModRevision == entry.ModRevision)
            {
                WriteTombstone(current, ++_batchRevision);
                expired++;
            }
        }

        if (expired > 0)
        {
            SqliteStoreLog.KeysExpired(_logger, expired);
        }

        foreach (long lease in Leases.Expired())
        {
            if (LeaseExists(lease))
            {
                RevokeLease(lease);
                SqliteStoreLog.LeaseExpired(_logger, lease);
            }
        }

        _results.Add((operation, default, null));
    }

    private bool LeaseExists(long id) => _stagedLeases.TryGetValue(id, out long? ttl) ? ttl is not null : Leases.Contains(id);

    private static StorageException LeaseNotFound(long id) => new(StorageError.LeaseNotFound, $"requested lease not found ({id:x})");

    /// <summary>A lease that a put anywhere in <paramref name="transaction"/> names and the store does not have, or null.</summary>
    private long? MissingLease(Transaction transaction)
    {
        foreach (var step in transaction.Success.Concat(transaction.Failure))
        {
            switch (step)
            {
                case TxnPut { Lease: not 0 } put when !LeaseExists(put.Lease):
                    return put.Lease;
                case Transaction nested when MissingLease(nested) is { } missing:
                    return missing;
            }
        }

        return null;
    }

    private void ApplyLeaseGrant(WriteOperation operation)
    {
        long id = operation.Lease;
        if (id == 0)
        {
            do
            {
                id = Random.Shared.NextInt64(1, long.MaxValue);
            }
            while (LeaseExists(id));
        }
        else if (LeaseExists(id))
        {
            Reject(operation, new StorageException(StorageError.KeyExists, "lease already exists"));
            return;
        }

        _insertLease.Parameters[0].Value = id;
        _insertLease.Parameters[1].Value = operation.LeaseTtl;
        _insertLease.ExecuteNonQuery();
        _stagedLeases[id] = operation.LeaseTtl;
        _results.Add((operation, new WriteOutcome(null, null, _batchRevision, Lease: id), null));
    }

    /// <summary>Removes the lease and deletes the keys attached to it, in key order at one new revision (none if it has no keys).</summary>
    private long RevokeLease(long id)
    {
        var keys = Leases.KeysOf(id);
        keys.AddRange(_staged.Where(s => s.Value?.Lease == id).Select(s => s.Key));
        var attached = keys.Distinct().Select(Lookup).OfType<KeyValue>().Where(kv => kv.Lease == id).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        if (attached.Count > 0)
        {
            long revision = ++_batchRevision;
            foreach (var kv in attached)
            {
                WriteTombstone(kv, revision);
            }
        }

        _deleteLease.Parameters[0].Value = id;
        _deleteLease.ExecuteNonQuery();
        _stagedLeases[id] = null;
        return _batchRevision;
    }

    /// <summary>A live key's place in the log: what <see cref="KeyValue"/> says of it but the value.</summary>
    private readonly record struct LiveKey(long CreateRevision, long ModRevision, long Version, long Lease);
}
