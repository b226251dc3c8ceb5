using Switchboard.Storage.Sqlite;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.Sqlite;

public sealed class SqliteWatchTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("switchboard-sqlite-");
    private SqliteKeyValueStore _store = null!;

    private string StorePath => _directory.File("store.db");

    public Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(StorePath, new SqliteStoreOptions { WatchBufferSize = 4096 });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Events_carry_previous_values_and_deletes_are_tombstones()
    {
        var watch = _store.WatchAsync("/k/", 0).TakeAsync(3);
        var created = await _store.CreateAsync("/k/a", Bytes("1"));
        await _store.PutAsync("/other", Bytes("x"));
        await _store.UpdateAsync("/k/a", Bytes("2"), created.ModRevision);
        var deleted = await _store.DeleteAsync("/k/a");

        var events = await watch;
        Assert.Equal([WatchEventType.Created, WatchEventType.Updated, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.Equal([1L, 3L, 4L], events.Select(e => e.Revision));
        Assert.Null(events[0].Previous);
        Assert.Equal(Bytes("1"), events[1].Previous!.Value);
        Assert.Equal(Bytes("2"), events[1].Current.Value);
        Assert.Equal(deleted.Revision, events[2].Current.ModRevision);
        Assert.Empty(events[2].Current.Value);
        Assert.Equal(Bytes("2"), events[2].Previous!.Value);
        Assert.Equal(3, events[2].Previous!.ModRevision);
    }

    [Fact]
    public async Task Replay_switches_to_live_without_gap_or_duplicate_under_concurrent_writers()
    {
        // More history than one replay page, then writers keep going while the watch catches up.
        for (int i = 0; i < 700; i++)
        {
            await _store.PutAsync($"/k/{i % 37}", Bytes(i.ToString()));
        }

        var watch = _store.WatchAsync("/k/", 100).TakeAsync(600 + 8 * 100);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 100; i++)
            {
                await _store.PutAsync($"/k/w{w}-{i % 5}", Bytes(i.ToString()));
            }
        })));

        var events = await watch;
        Assert.Equal(Enumerable.Range(101, 1400).Select(r => (long)r), events.Select(e => e.Revision));
        Assert.All(events.Where(e => e.Type == WatchEventType.Updated), e => Assert.True(e.Previous!.ModRevision < e.Revision));
    }

    [Fact]
    public async Task Many_watchers_each_see_their_prefix_in_order()
    {
        const int watchers = 40;
        var watches = Enumerable.Range(0, watchers).Select(w => _store.WatchAsync($"/w{w}/", 0).TakeAsync(10)).ToList();
        var everything = _store.WatchAsync(string.Empty, 0).TakeAsync(watchers * 10);
        await Task.WhenAll(Enumerable.Range(0, watchers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 10; i++)
            {
                await _store.PutAsync($"/w{w}/{i}", Bytes(i.ToString()));
            }
        })));

        for (int w = 0; w < watchers; w++)
        {
            var events = await watches[w];
            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"/w{w}/{i}"), events.Select(e => e.Current.Key));
            Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Revision < p.Second.Revision));
        }

        Assert.Equal(Enumerable.Range(1, watchers * 10).Select(r => (long)r), (await everything).Select(e => e.Revision));
    }

    [Fact]
    public async Task A_watcher_that_falls_behind_is_canceled_at_its_last_revision_and_can_resume()
    {
        await using var store = SqliteKeyValueStore.Open(Path.Combine(_directory.Path, "slow.db"), new SqliteStoreOptions { WatchBufferSize = 4 });
        await using var watch = store.WatchAsync("/", 0).GetAsyncEnumerator();
        var first = watch.MoveNextAsync().AsTask();
        await Eventually.WaitAsync(() => store.LiveWatchers == 1, "the watch to subscribe to live events");

        // The consumer takes one event and then stops reading while 20 more are written: the writers are not
        // held up, and the watch ends once its buffer of 4 overflows.
        for (int i = 1; i <= 21; i++)
        {
            await store.PutAsync($"/k{i}", Bytes(i.ToString()));
        }

        Assert.True(await first);
        var delivered = new List<long> { watch.Current.Revision };
        var canceled = await Assert.ThrowsAsync<StorageException>(async () =>
        {
            while (await watch.MoveNextAsync())
            {
                delivered.Add(watch.Current.Revision);
            }
        });
        Assert.Equal(StorageError.WatchCanceled, canceled.Error);

        // What was delivered before the cancel is whole (the first event plus at most the buffer's 4),
        // and the rest comes when resuming from the revision the cancel names.
        Assert.InRange(delivered.Count, 1, 5);
        Assert.Equal(Enumerable.Range(1, delivered.Count).Select(r => (long)r), delivered);
        Assert.Equal(delivered[^1], canceled.Revision);
        var resumed = await store.WatchAsync("/", canceled.Revision).TakeAsync(21 - delivered.Count);
        Assert.Equal(Enumerable.Range(delivered.Count + 1, 21 - delivered.Count).Select(r => (long)r), resumed.Select(e => e.Revision));
    }

    [Fact]
    public async Task Watches_below_the_compacted_revision_fail_and_later_ones_resume()
    {
        for (int i = 1; i <= 10; i++)
        {
            await _store.PutAsync($"/k/{i % 3}", Bytes(i.ToString()));
        }

        await _store.CompactAsync(6);
        Assert.Equal(6, await _store.GetCompactedRevisionAsync());

        var compacted = await Assert.ThrowsAsync<StorageException>(() => _store.WatchAsync("/k/", 4).TakeAsync(1));
        Assert.Equal(StorageError.Compacted, compacted.Error);
        Assert.Equal(6, compacted.Revision);

        // As in etcd, the compacted revision itself is still watchable, with previous values.
        var events = await _store.WatchAsync("/k/", 5).TakeAsync(5);
        Assert.Equal([6L, 7L, 8L, 9L, 10L], events.Select(e => e.Revision));
        Assert.All(events, e => Assert.NotNull(e.Previous));
        Assert.Equal(Bytes("3"), events[0].Previous!.Value);
    }

    [Fact]
    public async Task Disposing_the_store_ends_watches_with_unavailable()
    {
        await using var store = SqliteKeyValueStore.Open(Path.Combine(_directory.Path, "closing.db"));
        var watch = store.WatchAsync("/", 0).TakeAsync(1);
        await Eventually.WaitAsync(() => store.LiveWatchers == 1, "the watch to subscribe to live events");
        await store.DisposeAsync();

        var error = await Assert.ThrowsAsync<StorageException>(() => watch);
        Assert.Equal(StorageError.Unavailable, error.Error);
        var write = await Assert.ThrowsAsync<StorageException>(() => store.PutAsync("/a", Bytes("1")));
        Assert.Equal(StorageError.Unavailable, write.Error);
    }

}
