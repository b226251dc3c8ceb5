using System.Runtime.CompilerServices;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>
/// The real store, with a hand on the watches of one prefix: once <see cref="Hold"/> is called, the watch's next
/// event is passed on and then no further one is taken from the store until <see cref="Release"/> — a consumer that
/// stalls at an exact point. <see cref="Live"/> completes when the watch waits for new commits, i.e. it has caught up
/// with the history and is subscribed to live events.
/// </summary>
public sealed class HeldWatchStore(IKeyValueStore inner, string heldPrefix) : IKeyValueStore
{
    private readonly TaskCompletionSource _live = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _held;

    public Task Live => _live.Task;

    public void Hold() => _held = true;

    public void Release() => _released.TrySetResult();

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default) =>
        WatchAsync(prefix, afterRevision, Timeout.InfiniteTimeSpan, cancellationToken);

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, TimeSpan progressInterval, CancellationToken cancellationToken = default) =>
        prefix.StartsWith(heldPrefix, StringComparison.Ordinal)
            ? HeldAsync(inner.WatchAsync(prefix, afterRevision, progressInterval, cancellationToken), cancellationToken)
            : inner.WatchAsync(prefix, afterRevision, progressInterval, cancellationToken);

    public Task<long> GetRevisionAsync(CancellationToken cancellationToken = default) => inner.GetRevisionAsync(cancellationToken);

    public Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

    public Task<RangeSummary> RangeAsync(string prefix, RangeOptions options, IRangeVisitor visitor, CancellationToken cancellationToken = default) => inner.RangeAsync(prefix, options, visitor, cancellationToken);

    public Task<long> CountAsync(string prefix, CancellationToken cancellationToken = default) => inner.CountAsync(prefix, cancellationToken);

    public Task<TxnResult> TxnAsync(Transaction transaction, CancellationToken cancellationToken = default) => inner.TxnAsync(transaction, cancellationToken);

    public Task<KeyValue> CreateAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) => inner.CreateAsync(key, value, timeToLive, cancellationToken);

    public Task<KeyValue> UpdateAsync(string key, byte[] value, long expectedModRevision, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) => inner.UpdateAsync(key, value, expectedModRevision, timeToLive, cancellationToken);

    public Task<KeyValue> PutAsync(string key, byte[] value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) => inner.PutAsync(key, value, timeToLive, cancellationToken);

    public Task<DeleteResult> DeleteAsync(string key, long? expectedModRevision = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, expectedModRevision, cancellationToken);

    public Task<long> GrantLeaseAsync(long id, long ttlSeconds, CancellationToken cancellationToken = default) => inner.GrantLeaseAsync(id, ttlSeconds, cancellationToken);

    public Task<long> KeepAliveLeaseAsync(long id, CancellationToken cancellationToken = default) => inner.KeepAliveLeaseAsync(id, cancellationToken);

    public Task RevokeLeaseAsync(long id, CancellationToken cancellationToken = default) => inner.RevokeLeaseAsync(id, cancellationToken);

    public Task<LeaseInfo?> GetLeaseAsync(long id, CancellationToken cancellationToken = default) => inner.GetLeaseAsync(id, cancellationToken);

    public Task<IReadOnlyList<long>> ListLeasesAsync(CancellationToken cancellationToken = default) => inner.ListLeasesAsync(cancellationToken);

    public Task CompactAsync(long revision, CancellationToken cancellationToken = default) => inner.CompactAsync(revision, cancellationToken);

    public Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken = default) => inner.GetCompactedRevisionAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private async IAsyncEnumerable<WatchEvent> HeldAsync(IAsyncEnumerable<WatchEvent> events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var enumerator = events.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            var next = enumerator.MoveNextAsync();
            if (!next.IsCompleted)
            {
                // The store's history replay is synchronous: a pending read means the watch is on the live feed.
                _live.TrySetResult();
            }

            if (!await next)
            {
                yield break;
            }

            yield return enumerator.Current;
            if (_held)
            {
                await _released.Task.WaitAsync(cancellationToken);
            }
        }
    }
}
