using Microsoft.Data.Sqlite;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.Sqlite;

public sealed class SqliteDurabilityTests : IDisposable
{
    private readonly TempDirectory _directory = new("switchboard-sqlite-");

    private string StorePath => _directory.File("store.db");

    [Fact]
    public async Task The_store_commits_through_a_write_ahead_log_fsynced_on_every_commit()
    {
        await using var store = SqliteKeyValueStore.Open(StorePath);
        await store.PutAsync("/a", Bytes("1"));

        Assert.Equal(2, store.SynchronousLevel);
        using var connection = new SqliteConnection($"Data Source={StorePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public async Task Reopening_restores_keys_history_and_revisions()
    {
        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            var a = await store.CreateAsync("/a", Bytes("1"));
            await store.UpdateAsync("/a", Bytes("2"), a.ModRevision);
            await store.PutAsync("/b", Bytes("b"));
            await store.DeleteAsync("/b");
            await store.PutAsync("/empty", []);
        }

        await using var reopened = SqliteKeyValueStore.Open(StorePath);
        Assert.Equal(5, await reopened.GetRevisionAsync());
        var a2 = (await reopened.GetAsync("/a"))!;
        Assert.Equal((1L, 2L, 2L), (a2.CreateRevision, a2.ModRevision, a2.Version));
        Assert.Null(await reopened.GetAsync("/b"));
        Assert.Equal(["/a", "/b"], (await reopened.RangeAsync("/", new RangeOptions(Revision: 3))).Items.Select(i => i.Key));
        var history = await reopened.WatchAsync("/", 0).TakeAsync(5);
        Assert.Equal([WatchEventType.Created, WatchEventType.Updated, WatchEventType.Created, WatchEventType.Deleted, WatchEventType.Created], history.Select(e => e.Type));

        // The compare-and-swap index is rebuilt too.
        var mismatch = await Assert.ThrowsAsync<StorageException>(() => reopened.UpdateAsync("/a", Bytes("3"), 1));
        Assert.Equal(StorageError.RevisionMismatch, mismatch.Error);
        Assert.Equal(Bytes("2"), mismatch.Current!.Value);
        var changes = reopened.WatchAsync("/", 5).TakeAsync(2);
        Assert.Equal(6, (await reopened.UpdateAsync("/a", Bytes("3"), 2)).ModRevision);
        var deleted = await reopened.DeleteAsync("/empty");

        // Writes after the reopen carry the previous values written before it, read back from the log.
        Assert.Empty(deleted.Deleted.Value);
        Assert.Equal(5, deleted.Deleted.ModRevision);
        var events = await changes;
        Assert.Equal(Bytes("2"), events[0].Previous!.Value);
        Assert.Equal(2, events[0].Previous!.ModRevision);
        Assert.Equal(WatchEventType.Deleted, events[1].Type);
        Assert.Empty(events[1].Previous!.Value);
    }

    [Fact]
    public async Task A_torn_tail_of_the_log_is_discarded_and_the_store_goes_on()
    {
        string crashed = Path.Combine(_directory.Path, "crashed.db");
        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            for (int i = 1; i <= 100; i++)
            {
                await store.PutAsync($"/k/{i}", Bytes(i.ToString()));
            }

            // With the writer idle, the files are what a power cut would leave: copy them, then append
            // half a frame of garbage to the log as an interrupted commit would.
            File.Copy(StorePath, crashed);
            File.Copy(StorePath + "-wal", crashed + "-wal");
            var garbage = new byte[2000];
            Random.Shared.NextBytes(garbage);
            using var wal = new FileStream(crashed + "-wal", FileMode.Append);
            wal.Write(garbage);
        }

        await using var recovered = SqliteKeyValueStore.Open(crashed);
        Assert.Equal(100, await recovered.GetRevisionAsync());
        var all = await recovered.RangeAsync("/k/", default);
        Assert.Equal(Enumerable.Range(1, 100).Select(r => (long)r), all.Items.Select(i => i.ModRevision).Order());
        Assert.Equal(101, (await recovered.PutAsync("/k/after", Bytes("x"))).ModRevision);
    }

    [Fact]
    public async Task A_written_value_is_copied_so_the_caller_may_reuse_its_buffer()
    {
        await using var store = SqliteKeyValueStore.Open(StorePath);
        var buffer = Bytes("first");
        var watch = store.WatchAsync("/", 0).TakeAsync(2);
        await store.PutAsync("/a", buffer);
        buffer[0] = (byte)'F';
        await store.PutAsync("/a", Bytes("second"));

        var events = await watch;
        Assert.Equal(Bytes("first"), events[1].Previous!.Value);
    }

    [Fact]
    public async Task A_store_file_has_one_owner_at_a_time()
    {
        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            var second = Assert.Throws<StorageException>(() => SqliteKeyValueStore.Open(StorePath));
            Assert.Equal(StorageError.Unavailable, second.Error);
            await store.PutAsync("/a", Bytes("1"));
        }

        await using var reopened = SqliteKeyValueStore.Open(StorePath);
        Assert.Equal(1, await reopened.GetRevisionAsync());
    }

    public void Dispose() => _directory.Dispose();

}
