using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.Conformance;

/// <summary>
/// The etcd v3 semantics the API server relies on, run against every <see cref="IKeyValueStore"/>.
/// Each test works under its own key prefix, so one store (or one etcd) may serve a whole class.
/// </summary>
public abstract class KeyValueStoreConformanceTests : IAsyncLifetime
{
    private IKeyValueStore? _store;

    protected IKeyValueStore Store => _store ?? throw new InvalidOperationException("the store is opened in InitializeAsync");

    /// <summary>A prefix no other test uses.</summary>
    protected string Prefix { get; } = $"/conformance/{Guid.NewGuid():N}/";

    /// <summary>Opens the store under test; it is disposed after the test.</summary>
    protected abstract Task<IKeyValueStore> OpenStoreAsync();

    public async Task InitializeAsync() => _store = await OpenStoreAsync();

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    [Fact]
    public async Task Create_stamps_the_new_revision_and_version_one()
    {
        long before = await Store.GetRevisionAsync();
        var created = await Store.CreateAsync(Prefix + "a", Bytes("one"));

        Assert.True(created.ModRevision > before);
        Assert.Equal(created.ModRevision, created.CreateRevision);
        Assert.Equal(1, created.Version);
        Assert.Equal(created.ModRevision, await Store.GetRevisionAsync());

        var read = await Store.GetAsync(Prefix + "a");
        Assert.NotNull(read);
        Assert.Equal("one", Text(read.Value));
        Assert.Equal(created.ModRevision, read.ModRevision);
        Assert.Null(await Store.GetAsync(Prefix + "missing"));
    }

    [Fact]
    public async Task Every_write_advances_the_revision_by_one()
    {
        var created = await Store.CreateAsync(Prefix + "k", Bytes("1"));
        var updated = await Store.UpdateAsync(Prefix + "k", Bytes("2"), created.ModRevision);
        var put = await Store.PutAsync(Prefix + "k", Bytes("3"));
        var deleted = await Store.DeleteAsync(Prefix + "k");

        Assert.Equal(created.ModRevision + 1, updated.ModRevision);
        Assert.Equal(updated.ModRevision + 1, put.ModRevision);
        Assert.Equal(put.ModRevision + 1, deleted.Revision);
        Assert.Equal(deleted.Revision, await Store.GetRevisionAsync());

        Assert.Equal(created.CreateRevision, put.CreateRevision);
        Assert.Equal(3, put.Version);
        Assert.Equal("3", Text(deleted.Deleted.Value));
        Assert.Equal(put.ModRevision, deleted.Deleted.ModRevision);
    }

    [Fact]
    public async Task Create_of_an_existing_key_fails_and_carries_the_current_value()
    {
        var first = await Store.CreateAsync(Prefix + "dup", Bytes("first"));
        long revision = await Store.GetRevisionAsync();

        var failure = await ExpectAsync(StorageError.KeyExists, () => Store.CreateAsync(Prefix + "dup", Bytes("second")));

        Assert.Equal(Prefix + "dup", failure.Key);
        Assert.NotNull(failure.Current);
        Assert.Equal("first", Text(failure.Current.Value));
        Assert.Equal(first.ModRevision, failure.Current.ModRevision);
        Assert.Equal(revision, await Store.GetRevisionAsync());
    }

    [Fact]
    public async Task Update_is_a_compare_and_swap_on_the_mod_revision()
    {
        var created = await Store.CreateAsync(Prefix + "cas", Bytes("v1"));
        var updated = await Store.UpdateAsync(Prefix + "cas", Bytes("v2"), created.ModRevision);
        Assert.Equal(2, updated.Version);

        var stale = await ExpectAsync(StorageError.RevisionMismatch, () => Store.UpdateAsync(Prefix + "cas", Bytes("v3"), created.ModRevision));
        Assert.NotNull(stale.Current);
        Assert.Equal("v2", Text(stale.Current.Value));
        Assert.Equal(updated.ModRevision, stale.Current.ModRevision);

        await ExpectAsync(StorageError.KeyNotFound, () => Store.UpdateAsync(Prefix + "nobody", Bytes("x"), created.ModRevision));
        Assert.Equal("v2", Text((await Store.GetAsync(Prefix + "cas"))!.Value));
    }

    [Fact]
    public async Task Delete_checks_the_expected_revision_and_reports_missing_keys()
    {
        var created = await Store.CreateAsync(Prefix + "del", Bytes("x"));
        var updated = await Store.PutAsync(Prefix + "del", Bytes("y"));

        var stale = await ExpectAsync(StorageError.RevisionMismatch, () => Store.DeleteAsync(Prefix + "del", created.ModRevision));
        Assert.Equal(updated.ModRevision, stale.Current!.ModRevision);

        var deleted = await Store.DeleteAsync(Prefix + "del", updated.ModRevision);
        Assert.Equal("y", Text(deleted.Deleted.Value));
        Assert.Null(await Store.GetAsync(Prefix + "del"));

        await ExpectAsync(StorageError.KeyNotFound, () => Store.DeleteAsync(Prefix + "del"));
    }

    [Fact]
    public async Task A_key_created_again_after_deletion_starts_a_new_life()
    {
        var first = await Store.CreateAsync(Prefix + "again", Bytes("1"));
        await Store.PutAsync(Prefix + "again", Bytes("2"));
        await Store.DeleteAsync(Prefix + "again");

        var second = await Store.CreateAsync(Prefix + "again", Bytes("3"));
        Assert.Equal(1, second.Version);
        Assert.True(second.CreateRevision > first.CreateRevision);
        Assert.Equal(second.ModRevision, second.CreateRevision);
    }

    [Fact]
    public async Task Range_lists_one_prefix_in_key_order_and_pages_with_limit()
    {
        foreach (string name in new[] { "c", "a", "e", "b", "d" })
        {
            await Store.CreateAsync(Prefix + "items/" + name, Bytes(name));
        }

        await Store.CreateAsync(Prefix + "itemsx", Bytes("sibling, not under items/"));

        var all = await Store.RangeAsync(Prefix + "items/", new RangeOptions());
        Assert.Equal(["a", "b", "c", "d", "e"], all.Items.Select(kv => Text(kv.Value)));
        Assert.False(all.More);
        Assert.Equal(5, all.Count);
        Assert.Equal(await Store.GetRevisionAsync(), all.Revision);
        Assert.Equal(5, await Store.CountAsync(Prefix + "items/"));
        Assert.Equal(6, await Store.CountAsync(Prefix));

        var page1 = await Store.RangeAsync(Prefix + "items/", new RangeOptions(Limit: 2));
        Assert.Equal(["a", "b"], page1.Items.Select(kv => Text(kv.Value)));
        Assert.True(page1.More);
        Assert.Equal(5, page1.Count);

        var page2 = await Store.RangeAsync(Prefix + "items/", new RangeOptions(Limit: 2, Revision: page1.Revision, StartAfter: page1.Items[^1].Key));
        Assert.Equal(["c", "d"], page2.Items.Select(kv => Text(kv.Value)));
        Assert.True(page2.More);

        var page3 = await Store.RangeAsync(Prefix + "items/", new RangeOptions(Limit: 2, Revision: page1.Revision, StartAfter: page2.Items[^1].Key));
        Assert.Equal(["e"], page3.Items.Select(kv => Text(kv.Value)));
        Assert.False(page3.More);
    }

    [Fact]
    public async Task A_range_of_large_values_gives_every_byte_back_in_key_order()
    {
        // 24 values of 100 KiB, each its own bytes: more than one buffer's worth wherever a store or a front gathers them.
        var values = Enumerable.Range(0, 24).Select(i =>
        {
            byte[] value = new byte[100 * 1024];
            new Random(i).NextBytes(value);
            return value;
        }).ToList();
        for (int i = 0; i < values.Count; i++)
        {
            await Store.PutAsync($"{Prefix}large/{i:D2}", values[i]);
        }

        var all = await Store.RangeAsync(Prefix + "large/", new RangeOptions());

        Assert.Equal(Enumerable.Range(0, 24).Select(i => $"{Prefix}large/{i:D2}"), all.Items.Select(kv => kv.Key));
        Assert.All(all.Items, kv => Assert.Equal(values[int.Parse(kv.Key[^2..], System.Globalization.CultureInfo.InvariantCulture)], kv.Value));
        Assert.Equal(24, all.Count);
    }

    [Fact]
    public async Task A_visitor_that_fails_ends_its_range_with_its_error_and_the_next_range_reads_normally()
    {
        foreach (string name in new[] { "a", "b", "c" })
        {
            await Store.PutAsync(Prefix + name, Bytes(name));
        }

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => Store.RangeAsync(Prefix, new RangeOptions(), new FailingVisitor(after: 1)));
        Assert.Equal("the visitor failed at key 2", failure.Message);

        var visited = new List<string>();
        var summary = await Store.RangeAsync(Prefix, new RangeOptions(Limit: 2), new FailingVisitor(after: int.MaxValue, visited));
        Assert.Equal([Prefix + "a", Prefix + "b"], visited);
        Assert.Equal((true, 3L), (summary.More, summary.Count));
        Assert.Equal(["a", "b", "c"], (await Store.RangeAsync(Prefix, new RangeOptions())).Items.Select(kv => Text(kv.Value)));
    }

    [Fact]
    public async Task Range_at_an_old_revision_sees_the_state_of_then()
    {
        var a = await Store.CreateAsync(Prefix + "a", Bytes("a1"));
        await Store.CreateAsync(Prefix + "b", Bytes("b1"));
        long then = await Store.GetRevisionAsync();

        await Store.UpdateAsync(Prefix + "a", Bytes("a2"), a.ModRevision);
        await Store.DeleteAsync(Prefix + "b");
        await Store.CreateAsync(Prefix + "c", Bytes("c1"));

        var old = await Store.RangeAsync(Prefix, new RangeOptions(Revision: then));
        Assert.Equal(["a1", "b1"], old.Items.Select(kv => Text(kv.Value)));
        Assert.Equal(then, old.Revision);

        var now = await Store.RangeAsync(Prefix, new RangeOptions());
        Assert.Equal(["a2", "c1"], now.Items.Select(kv => Text(kv.Value)));
    }

    [Fact]
    public async Task Range_beyond_the_current_revision_is_refused()
    {
        long current = await Store.GetRevisionAsync();
        await ExpectAsync(StorageError.FutureRevision, () => Store.RangeAsync(Prefix, new RangeOptions(Revision: current + 1000)));
    }

    [Fact]
    public async Task Concurrent_compare_and_swap_increments_lose_nothing()
    {
        const int writers = 8;
        const int incrementsEach = 15;
        string key = Prefix + "counter";
        await Store.CreateAsync(key, Bytes("0"));

        async Task IncrementAsync()
        {
            for (int done = 0; done < incrementsEach;)
            {
                var current = (await Store.GetAsync(key))!;
                int next = int.Parse(Text(current.Value), System.Globalization.CultureInfo.InvariantCulture) + 1;
                try
                {
                    await Store.UpdateAsync(key, Bytes(next.ToString(System.Globalization.CultureInfo.InvariantCulture)), current.ModRevision);
                    done++;
                }
                catch (StorageException e) when (e.Error == StorageError.RevisionMismatch)
                {
                    // Lost the race: read again and retry, as the API server's update loop does.
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(IncrementAsync)));

        var final = (await Store.GetAsync(key))!;
        Assert.Equal((writers * incrementsEach).ToString(System.Globalization.CultureInfo.InvariantCulture), Text(final.Value));
        Assert.Equal(1 + (writers * incrementsEach), final.Version);
    }

    [Fact]
    public async Task Watch_delivers_creates_updates_and_deletes_with_previous_values()
    {
        long start = await Store.GetRevisionAsync();
        await using var watch = new WatchCollector(Store, Prefix, start);

        var created = await Store.CreateAsync(Prefix + "w", Bytes("1"));
        var updated = await Store.UpdateAsync(Prefix + "w", Bytes("2"), created.ModRevision);
        var deleted = await Store.DeleteAsync(Prefix + "w");
        await Store.PutAsync("/elsewhere" + Prefix, Bytes("not watched"));

        var events = await watch.TakeAsync(3, "create, update and delete events");

        Assert.Equal(WatchEventType.Created, events[0].Type);
        Assert.Equal("1", Text(events[0].Current.Value));
        Assert.Null(events[0].Previous);
        Assert.Equal(created.ModRevision, events[0].Revision);

        Assert.Equal(WatchEventType.Updated, events[1].Type);
        Assert.Equal("2", Text(events[1].Current.Value));
        Assert.Equal("1", Text(events[1].Previous!.Value));
        Assert.Equal(updated.ModRevision, events[1].Revision);

        Assert.Equal(WatchEventType.Deleted, events[2].Type);
        Assert.Equal(Prefix + "w", events[2].Current.Key);
        Assert.Empty(events[2].Current.Value);
        Assert.Equal(deleted.Revision, events[2].Revision);
        Assert.Equal("2", Text(events[2].Previous!.Value));

        await Store.DeleteAsync("/elsewhere" + Prefix);
    }

    [Fact]
    public async Task Watch_from_a_past_revision_replays_history_then_follows_live()
    {
        await Store.CreateAsync(Prefix + "0", Bytes("0"));
        long from = await Store.GetRevisionAsync();
        for (int i = 1; i <= 5; i++)
        {
            await Store.CreateAsync(Prefix + i, Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        await using var watch = new WatchCollector(Store, Prefix, from);
        var history = await watch.TakeAsync(5, "the five writes made before the watch started");
        Assert.Equal(Enumerable.Range(1, 5).Select(i => from + i), history.Select(e => e.Revision));

        var live = await Store.CreateAsync(Prefix + "6", Bytes("6"));
        var next = await watch.TakeAsync(1, "a write made after the watch started");
        Assert.Equal(live.ModRevision, next[0].Revision);
        Assert.Empty(watch.Drain());
    }

    [Fact]
    public async Task Watch_keeps_revision_order_under_concurrent_writers_and_every_watcher_sees_the_same()
    {
        const int writers = 8;
        const int writesEach = 25;
        long start = await Store.GetRevisionAsync();
        var watchers = Enumerable.Range(0, 10).Select(_ => new WatchCollector(Store, Prefix, start)).ToList();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (int i = 0; i < writesEach; i++)
                {
                    await Store.PutAsync($"{Prefix}{w}/{i % 5}", Bytes($"{w}-{i}"));
                }
            })));

            List<long>? first = null;
            foreach (var watcher in watchers)
            {
                var events = await watcher.TakeAsync(writers * writesEach, "every concurrent write");
                var revisions = events.Select(e => e.Revision).ToList();
                Assert.Equal(revisions.Order(), revisions);
                Assert.Equal(revisions.Count, revisions.Distinct().Count());
                first ??= revisions;
                Assert.Equal(first, revisions);
            }
        }
        finally
        {
            foreach (var watcher in watchers)
            {
                await watcher.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Compaction_fails_old_reads_and_watches_and_a_client_resumes_by_listing_again()
    {
        var key = Prefix + "compacted";
        var created = await Store.CreateAsync(key, Bytes("1"));
        var updated = await Store.UpdateAsync(key, Bytes("2"), created.ModRevision);
        var latest = await Store.UpdateAsync(key, Bytes("3"), updated.ModRevision);

        await Store.CompactAsync(latest.ModRevision);
        Assert.True(await Store.GetCompactedRevisionAsync() >= latest.ModRevision);

        var readBelow = await ExpectAsync(StorageError.Compacted, () => Store.RangeAsync(Prefix, new RangeOptions(Revision: created.ModRevision)));
        Assert.True(readBelow.Revision >= latest.ModRevision);
        var atCompaction = await Store.RangeAsync(Prefix, new RangeOptions(Revision: latest.ModRevision));
        Assert.Equal("3", Text(atCompaction.Items.Single().Value));

        await using (var stale = new WatchCollector(Store, Prefix, created.ModRevision))
        {
            var failure = Assert.IsType<StorageException>(await stale.FailureAsync("the watch below the compacted revision to fail"));
            Assert.Equal(StorageError.Compacted, failure.Error);
        }

        // What an informer does after 410 Gone: list again, then watch from the list's revision.
        var relist = await Store.RangeAsync(Prefix, new RangeOptions());
        await using var resumed = new WatchCollector(Store, Prefix, relist.Revision);
        var next = await Store.UpdateAsync(key, Bytes("4"), latest.ModRevision);
        var events = await resumed.TakeAsync(1, "the first write after relisting");
        Assert.Equal(next.ModRevision, events[0].Revision);
        Assert.Equal("3", Text(events[0].Previous!.Value));
    }

    [Fact]
    public async Task A_quiet_watch_with_progress_passes_writes_elsewhere_and_resumes_from_there_after_compaction()
    {
        string quiet = Prefix + "quiet/";
        long start = await Store.GetRevisionAsync();
        await using var watch = new WatchCollector(Store, quiet, start, TimeSpan.FromMilliseconds(50));
        KeyValue? last = null;
        for (int i = 0; i < 5; i++)
        {
            last = await Store.PutAsync($"{Prefix}busy/{i}", Bytes("elsewhere"));
        }

        var progress = await watch.TakeUntilAsync(e => e.Revision >= last!.ModRevision, "progress past the writes to other keys");
        Assert.All(progress, e => Assert.Equal(WatchEventType.Progress, e.Type));
        Assert.Equal(progress.Select(e => e.Revision).Order(), progress.Select(e => e.Revision));
        Assert.Equal(last!.ModRevision, progress[^1].Revision);

        // Compaction past everything the watch was ever sent: it goes on, and a watch resuming from its progress is
        // not refused as compacted (a client that only had its start revision would have to list again).
        await Store.CompactAsync(last.ModRevision);
        var created = await Store.CreateAsync(quiet + "a", Bytes("1"));
        var next = await watch.TakeUntilAsync(e => e.Type != WatchEventType.Progress, "the write to the watched keys");
        Assert.Equal((WatchEventType.Created, created.ModRevision), (next[^1].Type, next[^1].Revision));
        await using var resumed = new WatchCollector(Store, quiet, progress[^1].Revision);
        var replayed = await resumed.TakeAsync(1, "the write, replayed after the progress revision");
        Assert.Equal((WatchEventType.Created, created.ModRevision), (replayed[0].Type, replayed[0].Revision));
    }

    [Fact]
    public async Task Progress_never_runs_ahead_of_a_change_the_watch_has_not_given()
    {
        string quiet = Prefix + "quiet/";
        long start = await Store.GetRevisionAsync();

        // 50 ms, not less: against Debian's etcd 3.4.23, whose progress notifications can overtake queued events, the
        // store gives a notification's revision once the next one, an interval later, confirms it; with 5 ms a loaded CI
        // machine once had etcd still sending the events when the confirmation came.
        await using var watch = new WatchCollector(Store, quiet, start, TimeSpan.FromMilliseconds(50));
        var changes = new System.Collections.Concurrent.ConcurrentBag<long>();
        for (int round = 0; round < 10; round++)
        {
            // Bursts of writes from several writers, mostly to other keys, then a quiet spell for progress to come in.
            await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (int i = 0; i < 8; i++)
                {
                    await Store.PutAsync($"{Prefix}busy/{w}", Bytes("b"));
                    if (i % 4 == w % 4)
                    {
                        changes.Add((await Store.PutAsync($"{quiet}{w}", Bytes("q"))).ModRevision);
                    }
                }
            })));
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        var written = changes.Order().ToList();
        int given = 0;
        var events = await watch.TakeUntilAsync(e => e.Type != WatchEventType.Progress && ++given == written.Count, "every write to the watched keys");
        Assert.Equal(written, events.Where(e => e.Type != WatchEventType.Progress).Select(e => e.Revision));
        var progress = events.Select((e, index) => (e, index)).Where(p => p.e.Type == WatchEventType.Progress).ToList();
        Assert.True(progress.Count > 1, "progress came only at the end: the property was not exercised");
        foreach (var (e, index) in progress)
        {
            Assert.Equal(written.Count(r => r <= e.Revision), events.Take(index).Count(c => c.Type != WatchEventType.Progress));
        }
    }

    [Fact]
    public async Task A_key_with_a_time_to_live_expires_with_a_delete_event()
    {
        long start = await Store.GetRevisionAsync();
        await using var watch = new WatchCollector(Store, Prefix, start);

        await Store.CreateAsync(Prefix + "event", Bytes("short-lived"), TimeSpan.FromSeconds(1));
        await Store.CreateAsync(Prefix + "stays", Bytes("no ttl"));

        var events = await watch.TakeAsync(3, "two creations and the expiry of the key with a time to live");
        Assert.Equal(WatchEventType.Deleted, events[2].Type);
        Assert.Equal(Prefix + "event", events[2].Current.Key);
        Assert.Null(await Store.GetAsync(Prefix + "event"));
        Assert.NotNull(await Store.GetAsync(Prefix + "stays"));
    }

    [Fact]
    public async Task Bad_keys_and_values_are_refused_before_anything_is_written()
    {
        long revision = await Store.GetRevisionAsync();

        await ExpectAsync(StorageError.InvalidArgument, () => Store.CreateAsync("", Bytes("x")));
        await ExpectAsync(StorageError.InvalidArgument, () => Store.PutAsync(Prefix + new string('k', StorageLimits.MaxKeyBytes), Bytes("x")));
        await ExpectAsync(StorageError.InvalidArgument, () => Store.CreateAsync(Prefix + "huge", new byte[StorageLimits.MaxValueBytes + 1]));
        await ExpectAsync(StorageError.InvalidArgument, () => Store.PutAsync(Prefix + "short-ttl", Bytes("x"), TimeSpan.FromMilliseconds(10)));

        Assert.Equal(revision, await Store.GetRevisionAsync());
        Assert.Equal(0, await Store.CountAsync(Prefix));

        var atLimit = await Store.CreateAsync(Prefix + "big", new byte[StorageLimits.MaxValueBytes]);
        Assert.Equal(StorageLimits.MaxValueBytes, (await Store.GetAsync(atLimit.Key))!.Value.Length);
    }

    [Fact]
    public async Task A_transaction_writes_several_keys_at_one_revision_and_a_watch_sees_them_together()
    {
        var existing = await Store.CreateAsync(Prefix + "service", Bytes("v1"));
        await Store.CreateAsync(Prefix + "gone", Bytes("x"));
        await using var watch = new WatchCollector(Store, Prefix, existing.ModRevision + 1);

        var result = await Store.TxnAsync(new Transaction(
            [new TxnCompare(Prefix + "service", CompareTarget.ModRevision, CompareOperator.Equal, existing.ModRevision)],
            [new TxnPut(Prefix + "service", Bytes("v2")), new TxnPut(Prefix + "allocation", Bytes("10.96.0.7")), new TxnDelete(Prefix + "gone"), new TxnRange(Prefix, KeyInterval.ToEnd)],
            []));

        Assert.True(result.Succeeded);
        Assert.Equal(result.Revision, await Store.GetRevisionAsync());
        var put = Assert.IsType<TxnPutResult>(result.Results[0]);
        Assert.Equal(result.Revision, put.Current.ModRevision);
        Assert.Equal(2, put.Current.Version);
        Assert.Equal("v1", Text(put.Previous!.Value));
        Assert.Equal(Prefix + "gone", Assert.Single(Assert.IsType<TxnDeleteResult>(result.Results[2]).Deleted).Key);
        var events = await watch.TakeAsync(3, "the transaction's two puts and its delete");
        Assert.All(events, e => Assert.Equal(result.Revision, e.Revision));
        Assert.Equal([WatchEventType.Updated, WatchEventType.Created, WatchEventType.Deleted], events.Select(e => e.Type));
    }

    [Fact]
    public async Task A_transaction_whose_compare_fails_runs_its_failure_branch_and_writes_nothing_else()
    {
        var created = await Store.CreateAsync(Prefix + "cas", Bytes("v1"));
        await Store.UpdateAsync(Prefix + "cas", Bytes("v2"), created.ModRevision);
        long revision = await Store.GetRevisionAsync();

        var result = await Store.TxnAsync(new Transaction(
            [new TxnCompare(Prefix + "cas", CompareTarget.ModRevision, CompareOperator.Equal, created.ModRevision), new TxnCompare(Prefix + "cas", CompareTarget.Value, CompareOperator.Equal, Value: Bytes("v2"))],
            [new TxnPut(Prefix + "cas", Bytes("v3")), new TxnPut(Prefix + "other", Bytes("x"))],
            [new TxnRange(Prefix + "cas")]));

        Assert.False(result.Succeeded);
        Assert.Equal(revision, result.Revision);
        Assert.Equal(revision, await Store.GetRevisionAsync());
        Assert.Equal("v2", Text(Assert.Single(Assert.IsType<TxnRangeResult>(Assert.Single(result.Results)).Items).Value));
        Assert.Null(await Store.GetAsync(Prefix + "other"));
    }

    [Fact]
    public async Task A_transaction_writing_a_key_twice_is_refused_whole()
    {
        long revision = await Store.GetRevisionAsync();

        await ExpectAsync(StorageError.InvalidArgument, () => Store.TxnAsync(new Transaction([], [new TxnPut(Prefix + "a", Bytes("1")), new TxnPut(Prefix + "a", Bytes("2"))], [])));
        await ExpectAsync(StorageError.InvalidArgument, () => Store.TxnAsync(new Transaction([], [new TxnPut(Prefix + "b", Bytes("1")), new TxnDelete(Prefix, KeyInterval.ToEnd)], [])));

        Assert.Equal(revision, await Store.GetRevisionAsync());
    }
    [Fact]
    public async Task Keys_attached_to_a_lease_carry_it_and_go_together_at_one_revision_when_it_is_revoked()
    {
        long lease = await Store.GrantLeaseAsync(0, 60);
        try
        {
            var put = await Store.TxnAsync(new Transaction([], [new TxnPut(Prefix + "a", Bytes("1"), Lease: lease), new TxnPut(Prefix + "b", Bytes("2"), Lease: lease)], []));
            await Store.PutAsync(Prefix + "free", Bytes("3"));
            Assert.Equal(lease, Assert.IsType<TxnPutResult>(put.Results[0]).Current.Lease);
            Assert.Equal(lease, (await Store.GetAsync(Prefix + "a"))!.Lease);
            Assert.Equal([lease, lease, 0], (await Store.RangeAsync(Prefix, new RangeOptions())).Items.Select(kv => kv.Lease));

            var info = (await Store.GetLeaseAsync(lease))!;
            Assert.Equal(60, info.GrantedTtl);
            Assert.InRange(info.RemainingTtl, 1, 60);
            Assert.Equal([Prefix + "a", Prefix + "b"], info.Keys);
            Assert.Contains(lease, await Store.ListLeasesAsync());
            Assert.Equal(60, await Store.KeepAliveLeaseAsync(lease));

            await using var watch = new WatchCollector(Store, Prefix, await Store.GetRevisionAsync());
            await Store.RevokeLeaseAsync(lease);
            var events = await watch.TakeAsync(2, "the deletes of the revoked lease's two keys");
            Assert.All(events, e => Assert.Equal(WatchEventType.Deleted, e.Type));
            Assert.Equal(events[0].Revision, events[1].Revision);
            Assert.Equal([Prefix + "a", Prefix + "b"], events.Select(e => e.Current.Key).Order(StringComparer.Ordinal));
            Assert.Equal(Prefix + "free", Assert.Single((await Store.RangeAsync(Prefix, new RangeOptions())).Items).Key);
        }
        finally
        {
            await RevokeIfLiveAsync(lease);
        }

        Assert.Null(await Store.GetLeaseAsync(lease));
        Assert.Equal(0, await Store.KeepAliveLeaseAsync(lease));
        await ExpectAsync(StorageError.LeaseNotFound, () => Store.RevokeLeaseAsync(lease));
        long revision = await Store.GetRevisionAsync();
        await ExpectAsync(StorageError.LeaseNotFound, () => Store.TxnAsync(new Transaction([], [new TxnPut(Prefix + "late", Bytes("x"), Lease: lease)], [])));
        Assert.Equal(revision, await Store.GetRevisionAsync());
    }

    [Fact]
    public async Task A_lease_compare_inside_the_transaction_lets_one_of_many_racing_clients_take_a_key()
    {
        // Each client takes the key for its own lease only if no lease holds it: a lock as etcd's concurrency package
        // builds it. The compare must be read in the transaction that writes, or two clients both see it free.
        long[] leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Store.GrantLeaseAsync(0, 60)));
        try
        {
            string key = Prefix + "lock";
            var results = await Task.WhenAll(leases.Select(lease => Store.TxnAsync(new Transaction(
                [new TxnCompare(key, CompareTarget.Lease, CompareOperator.Equal, 0)],
                [new TxnPut(key, Bytes(lease.ToString(System.Globalization.CultureInfo.InvariantCulture)), Lease: lease)],
                [new TxnRange(key)]))));

            int winner = Assert.Single(Enumerable.Range(0, leases.Length), i => results[i].Succeeded);
            var held = (await Store.GetAsync(key))!;
            Assert.Equal(leases[winner], held.Lease);
            Assert.Equal(1, held.Version);
            Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(leases[winner], Assert.Single(Assert.IsType<TxnRangeResult>(Assert.Single(r.Results)).Items).Lease));

            // A compare on a different lease fails; on the holder's, it holds.
            var other = await Store.TxnAsync(new Transaction([new TxnCompare(key, CompareTarget.Lease, CompareOperator.Equal, leases[(winner + 1) % leases.Length])], [new TxnDelete(key)], []));
            Assert.False(other.Succeeded);
            var holder = await Store.TxnAsync(new Transaction([new TxnCompare(key, CompareTarget.Lease, CompareOperator.Equal, leases[winner])], [new TxnDelete(key)], []));
            Assert.True(holder.Succeeded);
            Assert.Null(await Store.GetAsync(key));
        }
        finally
        {
            foreach (long lease in leases)
            {
                await RevokeIfLiveAsync(lease);
            }
        }
    }

    [Fact]
    public async Task A_lease_not_kept_alive_expires_and_takes_its_keys()
    {
        long lease = await Store.GrantLeaseAsync(0, 2);
        long start = await Store.GetRevisionAsync();
        await using var watch = new WatchCollector(Store, Prefix, start);
        await Store.TxnAsync(new Transaction([], [new TxnPut(Prefix + "leased", Bytes("v"), Lease: lease)], []));

        var events = await watch.TakeAsync(2, "the put and the delete when the lease expires");
        Assert.Equal(WatchEventType.Deleted, events[1].Type);
        Assert.Equal(Prefix + "leased", events[1].Current.Key);
        Assert.Null(await Store.GetAsync(Prefix + "leased"));
        await Eventually.WaitAsync(async () => await Store.GetLeaseAsync(lease) is null, "the expired lease to be gone");
    }

    private async Task RevokeIfLiveAsync(long lease)
    {
        if (await Store.GetLeaseAsync(lease) is not null)
        {
            await Store.RevokeLeaseAsync(lease);
        }
    }

    /// <summary>Notes the keys it visits and throws at the key after the first <c>after</c>.</summary>
    private sealed class FailingVisitor(int after, List<string>? visited = null) : IRangeVisitor
    {
        private int _seen;

        public void Visit(in KeyValueRow row)
        {
            if (_seen++ == after)
            {
                throw new InvalidOperationException($"the visitor failed at key {_seen}");
            }

            visited?.Add(row.KeyString());
        }
    }
}
