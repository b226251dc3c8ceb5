using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Storage.Compaction;

namespace Switchboard.Storage.Sqlite;

/// <summary>
/// The embedded store: etcd v3 semantics on one SQLite file. Every write is a row of a revision log (as in
/// k3s's kine), so reads at old revisions and watch replays are queries; writes are group-committed by one
/// writer loop and acknowledged only once fsynced; reads run on their own connections.
/// </summary>
public sealed class SqliteKeyValueStore : IKeyValueStore
{
    // Watch replays read the log in pages of this many events.
    private const int HistoryPageSize = 512;

    private readonly SqliteWriter _writer;
    private readonly SqliteReadPool _readers;
    private readonly WatchHub _hub;
    private readonly SqliteStoreOptions _options;
    private readonly ILogger _logger;
    private readonly ITimer _sweepTimer;
    private readonly PeriodicCompactor? _compactor;
    private readonly FileStream _lock;
    private readonly TimeProvider _time;
    private int _disposed;

    private SqliteKeyValueStore(string path, FileStream fileLock, SqliteStoreOptions options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger<SqliteKeyValueStore>();
        _lock = fileLock;
        _time = time;
        _options = options;
        _logger = logger;
        _hub = new WatchHub();
        _writer = new SqliteWriter(path, _hub, time, logger, options.MaxBatchSize, options.WatchBufferSize);
        _readers = new SqliteReadPool(path);
        SqliteStoreLog.Opened(logger, path, _writer.Revision, _writer.CompactedRevision, _writer.LiveKeys);

        // Keys may have expired while the store was closed: sweep right away, then at every interval.
        _sweepTimer = time.CreateTimer(_ => _writer.RequestSweep(), null, TimeSpan.Zero, options.ExpirySweepInterval);
        if (options.CompactionInterval > TimeSpan.Zero)
        {
            _compactor = new PeriodicCompactor(this, options.CompactionInterval, time, loggerFactory.CreateLogger<PeriodicCompactor>());
            _compactor.Start();
        }
    }

    /// <summary>Opens (creating if needed) the store in the SQLite file <paramref name="path"/>, recovering after a crash.</summary>
    public static SqliteKeyValueStore Open(string path, SqliteStoreOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new SqliteStoreOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WatchBufferSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ExpirySweepInterval, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CompactionInterval, TimeSpan.Zero, nameof(options));
        string fullPath = Path.GetFullPath(path);
        // Born owner-only: SQLite gives its -wal and -shm files the database file's mode.
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        PrivateFiles.CreateIfMissing(fullPath);
        var fileLock = SqliteDatabase.Lock(fullPath);
        try
        {
            return new SqliteKeyValueStore(fullPath, fileLock, options, timeProvider ?? TimeProvider.System, loggerFactory ?? NullLoggerFactory.Instance);
        }
        catch
        {
            fileLock.Dispose();
            throw;
        }
    }

    /// <summary>How many watches are receiving live events.</summary>
    internal int LiveWatchers => _hub.Count;

    /// <summary>How many transactions the writer loop has committed.</summary>
    internal long Commits => _writer.Commits;

    /// <summary>The writer connection's PRAGMA synchronous (2 is FULL).</summary>
    internal long SynchronousLevel => _writer.SynchronousLevel;

    /// <summary>Deletes the expired keys now (after every sweep the timer already queued).</summary>
    internal Task SweepExpiredAsync() => _writer.SweepAsync();

    public Task<long> GetRevisionAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return Task.FromException<long>(Closed());
        }

        return Task.FromResult(_writer.Revision);
    }

    public Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        Read(() =>
        {
            StorageLimits.ValidateKey(key);
            return _readers.Read(connection => connection.Get(key));
        });

    public Task<RangeSummary> RangeAsync(string prefix, RangeOptions options, IRangeVisitor visitor, CancellationToken cancellationToken = default) =>
        Read(() =>
        {
            ArgumentNullException.ThrowIfNull(prefix);
            ArgumentNullException.ThrowIfNull(visitor);
            if (options.Limit < 0 || options.Revision < 0)
            {
                throw new StorageException(StorageError.InvalidArgument, $"limit {options.Limit} and revision {options.Revision} must not be negative");
            }

            var range = KeyRange.For(prefix, options);
            return _readers.ReadSnapshot((connection, snapshot) =>
            {
                long revision = options.Revision == 0 ? snapshot.Revision : options.Revision;
                CheckReadable(revision, snapshot);
                var (visited, more) = connection.Range(range, revision, options.Limit, visitor);
                return new RangeSummary(revision, more, more ? connection.Count(range, revision) : visited);
            });
        });

    public Task<long> CountAsync(string prefix, CancellationToken cancellationToken = default) =>
        Read(() =>
        {
            ArgumentNullException.ThrowIfNull(prefix);
            var range = KeyRange.ForPrefix(prefix);
            return _readers.ReadSnapshot((connection, snapshot) => connection.Count(range, snapshot.Revision));
        });

    public Task<KeyValue> CreateAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) =>
        WriteValueAsync(WriteKind.Create, key, value, null, timeToLive, cancellationToken);

    public Task<KeyValue> UpdateAsync(string key, byte[] value, long expectedModRevision, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) =>
        WriteValueAsync(WriteKind.Update, key, value, expectedModRevision, timeToLive, cancellationToken);

    public Task<KeyValue> PutAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) =>
        WriteValueAsync(WriteKind.Put, key, value, null, timeToLive, cancellationToken);

    public async Task<DeleteResult> DeleteAsync(string key, long? expectedModRevision = null, CancellationToken cancellationToken = default)
    {
        StorageLimits.ValidateKey(key);
        var outcome = await _writer.Enqueue(WriteOperation.ForKey(WriteKind.Delete, key, [], expectedModRevision, null, cancellationToken)).ConfigureAwait(false);
        return new DeleteResult(outcome.Previous!, outcome.Revision);
    }

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default) =>
        WatchAsync(prefix, afterRevision, Timeout.InfiniteTimeSpan, cancellationToken);

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, TimeSpan progressInterval, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (afterRevision < 0)
        {
            throw new StorageException(StorageError.InvalidArgument, $"watch revision {afterRevision} is negative");
        }

        if (progressInterval <= TimeSpan.Zero && progressInterval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(progressInterval), progressInterval, "a progress interval is positive or infinite");
        }

        return WatchCoreAsync(prefix, afterRevision, progressInterval, cancellationToken);
    }

    public async Task<TxnResult> TxnAsync(Transaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        transaction.Validate();
        var outcome = await _writer.Enqueue(WriteOperation.ForTransaction(transaction, cancellationToken)).ConfigureAwait(false);
        return outcome.Transaction!;
    }

    public async Task<long> GrantLeaseAsync(long id, long ttlSeconds, CancellationToken cancellationToken = default)
    {
        if (id < 0 || ttlSeconds <= 0)
        {
            throw new StorageException(StorageError.InvalidArgument, $"lease {id} with TTL {ttlSeconds}: the id must not be negative and the TTL must be positive");
        }

        return (await _writer.Enqueue(WriteOperation.GrantLease(id, ttlSeconds, cancellationToken)).ConfigureAwait(false)).Lease;
    }

    public Task<long> KeepAliveLeaseAsync(long id, CancellationToken cancellationToken = default) => Read(() => OpenLeases().KeepAlive(id));

    public Task RevokeLeaseAsync(long id, CancellationToken cancellationToken = default) =>
        _writer.Enqueue(WriteOperation.RevokeLease(id, cancellationToken));

    public Task<LeaseInfo?> GetLeaseAsync(long id, CancellationToken cancellationToken = default) => Read(() => OpenLeases().Get(id));

    public Task<IReadOnlyList<long>> ListLeasesAsync(CancellationToken cancellationToken = default) => Read(() => OpenLeases().Ids());

    public async Task CompactAsync(long revision, CancellationToken cancellationToken = default)
    {
        await _writer.Enqueue(WriteOperation.Compact(revision, cancellationToken)).ConfigureAwait(false);

        // The compacted revision is durable now, so nothing reads below it; the history goes chunk by chunk.
        long from = 0;
        while (from < revision)
        {
            from = (await _writer.Enqueue(WriteOperation.CompactChunk(revision, from)).ConfigureAwait(false)).Revision;
        }

        SqliteStoreLog.Compacted(_logger, revision);
    }

    public Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return Task.FromException<long>(Closed());
        }

        return Task.FromResult(_writer.CompactedRevision);
    }

    /// <summary>Stops the loops, commits the writes already queued, ends the watches and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _sweepTimer.DisposeAsync().ConfigureAwait(false);
        if (_compactor is not null)
        {
            await _compactor.DisposeAsync().ConfigureAwait(false);
        }

        _writer.Dispose();
        _hub.CloseAll();
        _readers.Dispose();
        await _lock.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The committed leases, while the store is open.</summary>
    private LeaseTable OpenLeases() => Volatile.Read(ref _disposed) == 0 ? _writer.Leases : throw Closed();

    private static StorageException Closed() => new(StorageError.Unavailable, "the store is closed");

    private static void CheckReadable(long revision, StoreSnapshot snapshot)
    {
        if (revision > snapshot.Revision)
        {
            throw new StorageException(StorageError.FutureRevision, $"revision {revision} is ahead of the store's {snapshot.Revision}", revision: snapshot.Revision);
        }

        if (revision < snapshot.Compacted)
        {
            throw new StorageException(StorageError.Compacted, $"revision {revision} is compacted (to {snapshot.Compacted})", revision: snapshot.Compacted);
        }
    }

    /// <summary>
    /// Runs a synchronous read, handing its failure back in the task like an async method would (a range visitor's own
    /// failure too).
    /// </summary>
    private static Task<T> Read<T>(Func<T> read)
    {
        try
        {
            return Task.FromResult(read());
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    private async Task<KeyValue> WriteValueAsync(WriteKind kind, string key, byte[] value, long? expectedModRevision, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        StorageLimits.ValidateKey(key);
        StorageLimits.ValidateValue(key, value);
        StorageLimits.ValidateTimeToLive(key, timeToLive);

        // The value is kept in the live-key index and in watch events: copy it so the caller may reuse its buffer.
        var operation = WriteOperation.ForKey(kind, key, (byte[])value.Clone(), expectedModRevision, timeToLive, cancellationToken);
        var outcome = await _writer.Enqueue(operation).ConfigureAwait(false);
        return outcome.Current!;
    }

    private async IAsyncEnumerable<WatchEvent> WatchCoreAsync(string prefix, long afterRevision, TimeSpan progressInterval, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var range = KeyRange.ForPrefix(prefix);
        long delivered = afterRevision;

        // Catch up from the log before subscribing, so a long replay does not fill the live buffer; then
        // subscribe and read the log once more for what was committed in between. Every commit after the
        // subscription reaches the buffer, and the buffer's events the log already gave are skipped.
        foreach (var watchEvent in Replay(range, delivered, cancellationToken))
        {
            yield return watchEvent;
            delivered = watchEvent.Revision;
        }

        var subscription = _hub.Subscribe(prefix, _options.WatchBufferSize);
        try
        {
            foreach (var watchEvent in Replay(range, delivered, cancellationToken))
            {
                yield return watchEvent;
                delivered = watchEvent.Revision;
            }

            // The log gave whole revisions up to here; a transaction's events share a revision, so the buffer's are
            // told apart from the log's by that revision, not by the last one delivered.
            long replayed = delivered;
            var feed = subscription.Events;
            Task<bool>? waiting = null;
            bool quiet = false;
            while (true)
            {
                // Read before the feed is found empty: every event up to it has then been taken.
                long published = _hub.Published;
                if (feed.TryRead(out var watchEvent))
                {
                    quiet = false;
                    if (watchEvent.Revision > replayed)
                    {
                        yield return watchEvent;
                        delivered = watchEvent.Revision;
                    }

                    continue;
                }

                if (quiet && published > delivered)
                {
                    yield return WatchEvent.ProgressAt(published);
                    delivered = published;
                }

                if (progressInterval == Timeout.InfiniteTimeSpan)
                {
                    if (!await feed.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }

                    continue;
                }

                // One wait for the feed, kept across intervals that pass without an event (the feed has one reader).
                waiting ??= feed.WaitToReadAsync(cancellationToken).AsTask();
                await ((Task)waiting.WaitAsync(progressInterval, _time, cancellationToken)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                cancellationToken.ThrowIfCancellationRequested();
                quiet = !waiting.IsCompleted;
                if (!quiet)
                {
                    var ready = waiting;
                    waiting = null;
                    if (!await ready.ConfigureAwait(false))
                    {
                        break;
                    }
                }
            }
        }
        finally
        {
            _hub.Unsubscribe(subscription);
        }

        throw subscription.CloseReason == WatchCloseReason.Overflow
            ? new StorageException(StorageError.WatchCanceled, $"the watcher fell more than {_options.WatchBufferSize} events behind; resume after revision {delivered}", revision: delivered)
            : Closed();
    }

    private IEnumerable<WatchEvent> Replay(KeyRange range, long afterRevision, CancellationToken cancellationToken)
    {
        // The log position: every change of revision `after` up to row `afterId` has been given.
        long after = afterRevision;
        long afterId = long.MaxValue;
        List<WatchEvent> page;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            (page, afterId) = _readers.ReadSnapshot((connection, snapshot) =>
            {
                // Events after `after` are whole as long as `after` is at least one below the compacted revision.
                if (after + 1 < snapshot.Compacted)
                {
                    throw new StorageException(StorageError.Compacted, $"watch after revision {after} needs compacted history (compacted to {snapshot.Compacted})", revision: snapshot.Compacted);
                }

                return connection.History(range, after, afterId, HistoryPageSize);
            });
            foreach (var watchEvent in page)
            {
                yield return watchEvent;
                after = watchEvent.Revision;
            }
        }
        while (page.Count == HistoryPageSize);
    }
}
