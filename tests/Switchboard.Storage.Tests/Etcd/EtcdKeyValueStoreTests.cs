using Switchboard.Storage.Etcd;
using Switchboard.Storage.Tests.Conformance;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.Etcd;

/// <summary>Every operation of <see cref="EtcdKeyValueStore"/> against one real etcd member.</summary>
public sealed class EtcdKeyValueStoreTests(EtcdCluster etcd) : IClassFixture<EtcdCluster>, IAsyncLifetime
{
    private readonly EtcdKeyValueStore _store = etcd.OpenStore();
    private readonly string _prefix = EtcdCluster.NewPrefix();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task Create_update_put_and_delete_stamp_etcd_revisions()
    {
        string key = _prefix + "k";
        var created = await _store.CreateAsync(key, Bytes("1"));
        Assert.Equal(await _store.GetRevisionAsync(), created.ModRevision);
        Assert.Equal((created.ModRevision, 1L), (created.CreateRevision, created.Version));

        var updated = await _store.UpdateAsync(key, Bytes("2"), created.ModRevision);
        var put = await _store.PutAsync(key, Bytes("3"));
        Assert.Equal((created.CreateRevision, created.ModRevision + 1, 2L), (updated.CreateRevision, updated.ModRevision, updated.Version));
        Assert.Equal((created.CreateRevision, updated.ModRevision + 1, 3L), (put.CreateRevision, put.ModRevision, put.Version));

        var read = await _store.GetAsync(key);
        Assert.Equal(put with { Value = read!.Value }, read);
        Assert.Equal("3", Text(read.Value));

        var deleted = await _store.DeleteAsync(key, put.ModRevision);
        Assert.Equal(put.ModRevision + 1, deleted.Revision);
        Assert.Equal("3", Text(deleted.Deleted.Value));
        Assert.Null(await _store.GetAsync(key));

        var fresh = await _store.PutAsync(key, Bytes("again"));
        Assert.Equal((fresh.ModRevision, 1L), (fresh.CreateRevision, fresh.Version));
    }

    [Fact]
    public async Task Failed_writes_say_why_and_carry_the_current_value()
    {
        string key = _prefix + "cas";
        var created = await _store.CreateAsync(key, Bytes("first"));
        var updated = await _store.PutAsync(key, Bytes("second"));

        var exists = await ExpectAsync(StorageError.KeyExists, () => _store.CreateAsync(key, Bytes("x")));
        Assert.Equal(updated.ModRevision, exists.Current!.ModRevision);
        Assert.Equal("second", Text(exists.Current.Value));

        var stale = await ExpectAsync(StorageError.RevisionMismatch, () => _store.UpdateAsync(key, Bytes("x"), created.ModRevision));
        Assert.Equal(key, stale.Key);
        Assert.Equal(updated.ModRevision, stale.Current!.ModRevision);
        var staleDelete = await ExpectAsync(StorageError.RevisionMismatch, () => _store.DeleteAsync(key, created.ModRevision));
        Assert.Equal("second", Text(staleDelete.Current!.Value));

        await ExpectAsync(StorageError.KeyNotFound, () => _store.UpdateAsync(_prefix + "none", Bytes("x"), created.ModRevision));
        await ExpectAsync(StorageError.KeyNotFound, () => _store.UpdateAsync(_prefix + "none", Bytes("x"), 0));
        await ExpectAsync(StorageError.KeyNotFound, () => _store.DeleteAsync(_prefix + "none"));
        await ExpectAsync(StorageError.KeyNotFound, () => _store.DeleteAsync(_prefix + "none", 0));
        Assert.Null(await _store.GetAsync(_prefix + "none"));
        Assert.Equal(updated.ModRevision, await _store.GetRevisionAsync());
    }

    [Fact]
    public async Task Range_pages_through_one_prefix_at_a_fixed_revision()
    {
        foreach (string name in new[] { "b", "d", "a", "c", "e" })
        {
            await _store.CreateAsync(_prefix + "items/" + name, Bytes(name));
        }

        await _store.CreateAsync(_prefix + "items0", Bytes("next to items/, not under it"));
        var page1 = await _store.RangeAsync(_prefix + "items/", new RangeOptions(Limit: 2));
        await _store.CreateAsync(_prefix + "items/bb", Bytes("written after the first page"));

        Assert.Equal(["a", "b"], page1.Items.Select(kv => Text(kv.Value)));
        Assert.Equal((true, 5L), (page1.More, page1.Count));
        var page2 = await _store.RangeAsync(_prefix + "items/", new RangeOptions(2, page1.Revision, page1.Items[^1].Key));
        Assert.Equal(["c", "d"], page2.Items.Select(kv => Text(kv.Value)));
        Assert.Equal((true, 3L, page1.Revision), (page2.More, page2.Count, page2.Revision));
        var page3 = await _store.RangeAsync(_prefix + "items/", new RangeOptions(2, page1.Revision, page2.Items[^1].Key));
        Assert.Equal(["e"], page3.Items.Select(kv => Text(kv.Value)));
        Assert.False(page3.More);

        var now = await _store.RangeAsync(_prefix + "items/", new RangeOptions());
        Assert.Equal(["a", "b", "bb", "c", "d", "e"], now.Items.Select(kv => kv.Key[(_prefix + "items/").Length..]));
        Assert.Equal(await _store.GetRevisionAsync(), now.Revision);
        Assert.Equal(6, await _store.CountAsync(_prefix + "items/"));
        Assert.Equal(7, await _store.CountAsync(_prefix));

        var beforePrefix = await _store.RangeAsync(_prefix + "items/", new RangeOptions(StartAfter: _prefix));
        Assert.Equal(6, beforePrefix.Count);
        var pastPrefix = await _store.RangeAsync(_prefix + "items/", new RangeOptions(StartAfter: _prefix + "z"));
        Assert.Empty(pastPrefix.Items);
    }

    [Fact]
    public async Task Range_beyond_the_current_revision_reports_the_current_one()
    {
        long current = await _store.GetRevisionAsync();
        var failure = await ExpectAsync(StorageError.FutureRevision, () => _store.RangeAsync(_prefix, new RangeOptions(Revision: current + 1000)));
        Assert.True(failure.Revision >= current && failure.Revision < current + 1000, $"current revision {failure.Revision}");
    }

    [Fact]
    public async Task Watch_sees_each_change_with_the_value_before_it()
    {
        long start = await _store.GetRevisionAsync();
        var created = await _store.CreateAsync(_prefix + "w", Bytes("1"));
        await using var watch = new WatchCollector(_store, _prefix, start);
        var updated = await _store.UpdateAsync(_prefix + "w", Bytes("2"), created.ModRevision);
        var deleted = await _store.DeleteAsync(_prefix + "w");
        await _store.PutAsync(_prefix.TrimEnd('/') + "-sibling", Bytes("not watched"));
        var last = await _store.PutAsync(_prefix + "last", Bytes("3"));

        var events = await watch.TakeAsync(4, "create (replayed), update, delete and the last put");
        Assert.Equal(
            [(WatchEventType.Created, created.ModRevision), (WatchEventType.Updated, updated.ModRevision), (WatchEventType.Deleted, deleted.Revision), (WatchEventType.Created, last.ModRevision)],
            events.Select(e => (e.Type, e.Revision)));
        Assert.Null(events[0].Previous);
        Assert.Equal("1", Text(events[1].Previous!.Value));
        Assert.Equal((_prefix + "w", 0), (events[2].Current.Key, events[2].Current.Value.Length));
        Assert.Equal("2", Text(events[2].Previous!.Value));
        Assert.Empty(watch.Drain());
    }

    [Fact]
    public async Task A_time_to_live_expires_the_key_with_a_delete_event()
    {
        long start = await _store.GetRevisionAsync();
        await using var watch = new WatchCollector(_store, _prefix, start);

        var shortLived = await _store.CreateAsync(_prefix + "lease", Bytes("gone soon"), TimeSpan.FromSeconds(1));
        var kept = await _store.PutAsync(_prefix + "kept", Bytes("was leased"), TimeSpan.FromSeconds(1));
        await _store.PutAsync(_prefix + "kept", Bytes("no lease any more"));

        var events = await watch.TakeAsync(4, "three writes and the expiry of the leased key");
        Assert.Equal((WatchEventType.Deleted, shortLived.Key), (events[3].Type, events[3].Current.Key));
        Assert.Equal("gone soon", Text(events[3].Previous!.Value));
        Assert.Null(await _store.GetAsync(shortLived.Key));
        Assert.Equal("no lease any more", Text((await _store.GetAsync(kept.Key))!.Value));
    }

    [Fact]
    public async Task Compaction_fails_reads_and_watches_below_it_with_the_compacted_revision()
    {
        var first = await _store.PutAsync(_prefix + "c", Bytes("1"));
        var second = await _store.PutAsync(_prefix + "c", Bytes("2"));
        await _store.CompactAsync(second.ModRevision);

        Assert.True(await _store.GetCompactedRevisionAsync() >= second.ModRevision);
        var read = await ExpectAsync(StorageError.Compacted, () => _store.RangeAsync(_prefix, new RangeOptions(Revision: first.ModRevision)));
        Assert.Equal(await _store.GetCompactedRevisionAsync(), read.Revision);
        Assert.Equal("2", Text((await _store.RangeAsync(_prefix, new RangeOptions(Revision: second.ModRevision))).Items.Single().Value));

        await using var stale = new WatchCollector(_store, _prefix, first.ModRevision - 1);
        var watchFailure = Assert.IsType<StorageException>(await stale.FailureAsync("the watch below the compacted revision to fail"));
        Assert.Equal((StorageError.Compacted, read.Revision), (watchFailure.Error, watchFailure.Revision));

        // Compacting again below what is gone is a no-op, as a second compactor would do.
        await _store.CompactAsync(first.ModRevision);
        Assert.Equal(read.Revision, await _store.GetCompactedRevisionAsync());
    }

    [Fact]
    public async Task A_compaction_by_another_client_is_found()
    {
        var written = await _store.PutAsync(_prefix + "x", Bytes("1"));
        for (int i = 0; i < 20; i++)
        {
            await _store.PutAsync(_prefix + "x", Bytes("more history"));
        }

        long target = written.ModRevision + 7;
        await using (var other = etcd.OpenStore())
        {
            await other.CompactAsync(target);
        }

        await using var fresh = etcd.OpenStore();
        Assert.Equal(target, await fresh.GetCompactedRevisionAsync());
        var failure = await ExpectAsync(StorageError.Compacted, () => _store.RangeAsync(_prefix, new RangeOptions(Revision: written.ModRevision)));
        Assert.Equal(target, failure.Revision);
    }

    [Fact]
    public async Task Values_up_to_the_limit_round_trip()
    {
        byte[] value = new byte[StorageLimits.MaxValueBytes];
        Random.Shared.NextBytes(value);
        var written = await _store.CreateAsync(_prefix + "big", value);
        await _store.PutAsync(_prefix + "big2", value);
        await _store.PutAsync(_prefix + "big3", value);

        Assert.Equal(value, (await _store.GetAsync(written.Key))!.Value);
        var all = await _store.RangeAsync(_prefix, new RangeOptions());
        Assert.All(all.Items, kv => Assert.Equal(value, kv.Value));
        Assert.Equal(3, all.Items.Count);
    }

    [Fact]
    public async Task Bad_input_is_refused_without_asking_etcd()
    {
        // Nothing listens here: a request that reached the network would fail as unavailable, not as invalid.
        int port = FreePort.Next();
        await using var nowhere = EtcdKeyValueStore.Connect(
            StoreLocation.Parse($"etcd://127.0.0.1:{port}"),
            new EtcdStoreOptions { CompactionInterval = null, RequestTimeout = TimeSpan.FromSeconds(2) });

        string tooLong = _prefix + new string('k', StorageLimits.MaxKeyBytes);
        await ExpectAsync(StorageError.InvalidArgument, () => nowhere.CreateAsync("", Bytes("x")));
        await ExpectAsync(StorageError.InvalidArgument, () => nowhere.PutAsync(tooLong, Bytes("x")));
        await ExpectAsync(StorageError.InvalidArgument, () => nowhere.UpdateAsync(tooLong, Bytes("x"), 1));
        await ExpectAsync(StorageError.InvalidArgument, () => nowhere.DeleteAsync(""));
        await ExpectAsync(StorageError.InvalidArgument, () => nowhere.GetAsync(tooLong));
        await ExpectAsync(StorageError.InvalidArgument, () => nowhere.CreateAsync(_prefix + "huge", new byte[StorageLimits.MaxValueBytes + 1]));
        await ExpectAsync(StorageError.InvalidArgument, () => nowhere.PutAsync(_prefix + "ttl", Bytes("x"), TimeSpan.FromMilliseconds(500)));
        await ExpectAsync(StorageError.InvalidArgument, () => nowhere.CompactAsync(0));

        await ExpectAsync(StorageError.Unavailable, () => nowhere.PutAsync(_prefix + "fine", Bytes("x")));
    }

    [Fact]
    public async Task A_disposed_store_is_unavailable_and_ends_its_watches()
    {
        var store = etcd.OpenStore();
        long start = await store.GetRevisionAsync();
        var watch = new WatchCollector(store, _prefix, start);
        await store.PutAsync(_prefix + "k", Bytes("1"));
        await watch.TakeAsync(1, "the put before disposal");

        await store.DisposeAsync();

        var ended = Assert.IsType<StorageException>(await watch.FailureAsync("the watch to end with the store"));
        Assert.Equal(StorageError.Unavailable, ended.Error);
        await ExpectAsync(StorageError.Unavailable, () => store.GetAsync(_prefix + "k"));
        await watch.DisposeAsync();
    }
}
