using System.Text;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.Sqlite;

public sealed class SqliteKeyValueStoreTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("switchboard-sqlite-");
    private SqliteKeyValueStore _store = null!;

    private string StorePath => _directory.File("store.db");

    public Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(StorePath);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Writes_advance_one_revision_and_track_versions()
    {
        Assert.Equal(0, await _store.GetRevisionAsync());
        var created = await _store.CreateAsync("/a", Bytes("1"));
        Assert.Equal(("/a", 1L, 1L, 1L), (created.Key, created.CreateRevision, created.ModRevision, created.Version));
        var updated = await _store.UpdateAsync("/a", Bytes("2"), created.ModRevision);
        Assert.Equal((1L, 2L, 2L), (updated.CreateRevision, updated.ModRevision, updated.Version));
        var put = await _store.PutAsync("/a", Bytes("3"));
        Assert.Equal((1L, 3L, 3L), (put.CreateRevision, put.ModRevision, put.Version));
        var deleted = await _store.DeleteAsync("/a");
        Assert.Equal(4, deleted.Revision);
        Assert.Equal(Bytes("3"), deleted.Deleted.Value);
        var recreated = await _store.PutAsync("/a", Bytes("4"));
        Assert.Equal((5L, 5L, 1L), (recreated.CreateRevision, recreated.ModRevision, recreated.Version));
        Assert.Equal(5, await _store.GetRevisionAsync());
        var got = await _store.GetAsync("/a");
        Assert.NotNull(got);
        Assert.Equal(Bytes("4"), got.Value);
        Assert.Equal(5, got.ModRevision);
        Assert.Null(await _store.GetAsync("/b"));
    }

    [Fact]
    public async Task Failed_compare_and_swap_writes_nothing_and_carries_the_current_value()
    {
        var a = await _store.CreateAsync("/a", Bytes("1"));

        var exists = await Assert.ThrowsAsync<StorageException>(() => _store.CreateAsync("/a", Bytes("2")));
        Assert.Equal(StorageError.KeyExists, exists.Error);
        Assert.Equal(a.ModRevision, exists.Current?.ModRevision);

        var mismatch = await Assert.ThrowsAsync<StorageException>(() => _store.UpdateAsync("/a", Bytes("2"), a.ModRevision + 7));
        Assert.Equal(StorageError.RevisionMismatch, mismatch.Error);
        Assert.Equal(Bytes("1"), mismatch.Current?.Value);

        var missing = await Assert.ThrowsAsync<StorageException>(() => _store.UpdateAsync("/b", Bytes("2"), 1));
        Assert.Equal(StorageError.KeyNotFound, missing.Error);

        var deleteMismatch = await Assert.ThrowsAsync<StorageException>(() => _store.DeleteAsync("/a", a.ModRevision + 1));
        Assert.Equal(StorageError.RevisionMismatch, deleteMismatch.Error);
        var deleteMissing = await Assert.ThrowsAsync<StorageException>(() => _store.DeleteAsync("/b"));
        Assert.Equal(StorageError.KeyNotFound, deleteMissing.Error);

        Assert.Equal(a.ModRevision, await _store.GetRevisionAsync());
        var deleted = await _store.DeleteAsync("/a", a.ModRevision);
        Assert.Equal(a.ModRevision + 1, deleted.Revision);
    }

    [Fact]
    public async Task Concurrent_incrementers_each_count_exactly_once()
    {
        const int workers = 8;
        const int incrementsEach = 25;
        await _store.CreateAsync("/counter", BitConverter.GetBytes(0L));

        async Task IncrementAsync()
        {
            for (int done = 0; done < incrementsEach;)
            {
                var current = (await _store.GetAsync("/counter"))!;
                long next = BitConverter.ToInt64(current.Value) + 1;
                try
                {
                    await _store.UpdateAsync("/counter", BitConverter.GetBytes(next), current.ModRevision);
                    done++;
                }
                catch (StorageException e) when (e.Error == StorageError.RevisionMismatch)
                {
                    // Lost the race: read again and retry.
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(IncrementAsync)));

        var counter = (await _store.GetAsync("/counter"))!;
        Assert.Equal(workers * incrementsEach, BitConverter.ToInt64(counter.Value));
        Assert.Equal(workers * incrementsEach + 1, counter.Version);
        Assert.Equal(counter.ModRevision, await _store.GetRevisionAsync());
    }

    [Fact]
    public async Task Concurrent_writes_are_group_committed_each_with_its_own_revision()
    {
        const int writers = 16;
        const int writesEach = 50;
        long commitsBefore = _store.Commits;
        var revisions = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var mine = new List<long>();
            for (int i = 0; i < writesEach; i++)
            {
                mine.Add((await _store.CreateAsync($"/g/{w}/{i}", Bytes("v"))).ModRevision);
            }

            return mine;
        })));

        Assert.Equal(Enumerable.Range(1, writers * writesEach).Select(r => (long)r), revisions.SelectMany(r => r).Order());
        long commits = _store.Commits - commitsBefore;
        Assert.True(commits < writers * writesEach, $"{writers * writesEach} concurrent writes took {commits} commits");
    }

    [Fact]
    public async Task Racing_updates_in_one_batch_leave_one_winner_and_spare_the_other_writes()
    {
        var x = await _store.CreateAsync("/x", Bytes("0"));
        var updates = Enumerable.Range(0, 16).Select(i => Task.Run(() => _store.UpdateAsync("/x", Bytes($"u{i}"), x.ModRevision))).ToList();
        var creates = Enumerable.Range(0, 16).Select(i => Task.Run(() => _store.CreateAsync($"/y/{i}", Bytes("y")))).ToList();
        await Task.WhenAll(creates);
        await Task.WhenAll(updates.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));

        var winner = await Assert.Single(updates, t => t.IsCompletedSuccessfully);
        foreach (var loser in updates.Where(t => !t.IsCompletedSuccessfully))
        {
            var error = Assert.IsType<StorageException>(loser.Exception!.InnerException);
            Assert.Equal(StorageError.RevisionMismatch, error.Error);
            Assert.Equal(winner.ModRevision, error.Current!.ModRevision);
        }

        Assert.Equal(winner.Value, (await _store.GetAsync("/x"))!.Value);
        Assert.Equal(2, (await _store.GetAsync("/x"))!.Version);
        Assert.Equal(1 + 1 + 16, await _store.GetRevisionAsync());
    }

    [Fact]
    public async Task Range_pages_by_limit_and_start_after_with_more_and_count()
    {
        foreach (string key in new[] { "/pods/b", "/pods/a", "/pods/c", "/podsx", "/services/a" })
        {
            await _store.PutAsync(key, Bytes(key));
        }

        var all = await _store.RangeAsync("/pods/", default);
        Assert.Equal(["/pods/a", "/pods/b", "/pods/c"], all.Items.Select(i => i.Key));
        Assert.False(all.More);
        Assert.Equal(3, all.Count);
        Assert.Equal(5, all.Revision);

        var first = await _store.RangeAsync("/pods/", new RangeOptions(Limit: 2));
        Assert.Equal(["/pods/a", "/pods/b"], first.Items.Select(i => i.Key));
        Assert.True(first.More);
        Assert.Equal(3, first.Count);

        var rest = await _store.RangeAsync("/pods/", new RangeOptions(Limit: 2, Revision: first.Revision, StartAfter: "/pods/b"));
        Assert.Equal(["/pods/c"], rest.Items.Select(i => i.Key));
        Assert.False(rest.More);
        Assert.Equal(1, rest.Count);

        Assert.Equal(5, (await _store.RangeAsync(string.Empty, default)).Count);
        Assert.Equal(4, await _store.CountAsync("/pods"));
        Assert.Equal(0, await _store.CountAsync("/nodes/"));
    }

    [Fact]
    public async Task Range_at_an_old_revision_sees_the_state_of_then()
    {
        var a1 = await _store.CreateAsync("/k/a", Bytes("a1"));
        await _store.CreateAsync("/k/b", Bytes("b1"));
        await _store.UpdateAsync("/k/a", Bytes("a2"), a1.ModRevision);
        await _store.DeleteAsync("/k/b");
        await _store.CreateAsync("/k/c", Bytes("c1"));

        var atTwo = await _store.RangeAsync("/k/", new RangeOptions(Revision: 2));
        Assert.Equal(["/k/a=a1", "/k/b=b1"], atTwo.Items.Select(Render));
        Assert.Equal(2, atTwo.Revision);
        var atFour = await _store.RangeAsync("/k/", new RangeOptions(Revision: 4));
        Assert.Equal(["/k/a=a2"], atFour.Items.Select(Render));
        var now = await _store.RangeAsync("/k/", default);
        Assert.Equal(["/k/a=a2", "/k/c=c1"], now.Items.Select(Render));

        var future = await Assert.ThrowsAsync<StorageException>(() => _store.RangeAsync("/k/", new RangeOptions(Revision: 6)));
        Assert.Equal(StorageError.FutureRevision, future.Error);
        Assert.Equal(5, future.Revision);
    }

    [Fact]
    public async Task Bad_input_is_refused_and_nothing_is_written()
    {
        var tooLongKey = new string('k', StorageLimits.MaxKeyBytes + 1);
        var tooBigValue = new byte[StorageLimits.MaxValueBytes + 1];
        var attempts = new Func<Task>[]
        {
            () => _store.CreateAsync(string.Empty, Bytes("v")),
            () => _store.PutAsync(tooLongKey, Bytes("v")),
            () => _store.PutAsync("/big", tooBigValue),
            () => _store.CreateAsync("/big", tooBigValue),
            () => _store.UpdateAsync("/big", tooBigValue, 1),
            () => _store.PutAsync("/short-ttl", Bytes("v"), TimeSpan.FromMilliseconds(10)),
            () => _store.DeleteAsync(string.Empty),
            () => _store.GetAsync(string.Empty),
            () => _store.RangeAsync("/", new RangeOptions(Limit: -1)),
        };

        foreach (var attempt in attempts)
        {
            var error = await Assert.ThrowsAsync<StorageException>(attempt);
            Assert.Equal(StorageError.InvalidArgument, error.Error);
        }

        Assert.Equal(0, await _store.GetRevisionAsync());
        Assert.Equal(0, await _store.CountAsync(string.Empty));

        // The limits themselves are allowed.
        var largest = await _store.PutAsync(new string('k', StorageLimits.MaxKeyBytes), new byte[StorageLimits.MaxValueBytes]);
        Assert.Equal(StorageLimits.MaxValueBytes, (await _store.GetAsync(largest.Key))!.Value.Length);
    }

    [Fact]
    public async Task Empty_values_and_non_ascii_keys_round_trip_in_byte_order()
    {
        await _store.PutAsync("/k/é", []);
        await _store.PutAsync("/k/z", Bytes("z"));
        await _store.PutAsync("/k/\u4e2d", Bytes("zh"));

        var range = await _store.RangeAsync("/k/", default);
        Assert.Equal(["/k/z", "/k/é", "/k/\u4e2d"], range.Items.Select(i => i.Key));
        Assert.Empty((await _store.GetAsync("/k/é"))!.Value);
        Assert.Equal(3, await _store.CountAsync("/k/"));
    }

    private static string Render(KeyValue kv) => $"{kv.Key}={Encoding.UTF8.GetString(kv.Value)}";
}
