using Microsoft.Data.Sqlite;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;
using static Switchboard.Storage.Tests.Support.StoreValues;

namespace Switchboard.Storage.Tests.Sqlite;

/// <summary>Leases and the current-row index across a restart of the embedded store, and the migration of a store written before them.</summary>
public sealed class SqliteLeaseTests : IDisposable
{
    private readonly TempDirectory _directory = new("switchboard-sqlite-lease-");

    private string StorePath => _directory.File("store.db");

    [Fact]
    public async Task A_lease_and_its_keys_survive_a_restart_and_the_lease_counts_its_ttl_again_from_the_open()
    {
        long lease;
        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            lease = await store.GrantLeaseAsync(0, 3);
            await store.TxnAsync(new Transaction([], [new TxnPut("/leased", Bytes("v"), Lease: lease)], []));
        }

        // Closed for longer than the TTL: the lease starts afresh on open, as etcd's on a new leader.
        await Task.Delay(TimeSpan.FromSeconds(4));
        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            var kept = await store.GetAsync("/leased");
            Assert.NotNull(kept);
            Assert.Equal(lease, kept.Lease);
            var info = (await store.GetLeaseAsync(lease))!;
            Assert.Equal(["/leased"], info.Keys);
            Assert.InRange(info.RemainingTtl, 1, 3);

            await Eventually.WaitAsync(async () => await store.GetAsync("/leased") is null, "the key to go when its lease expires after the restart");
            Assert.Null(await store.GetLeaseAsync(lease));
        }

        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            Assert.Null(await store.GetLeaseAsync(lease));
            Assert.Empty(await store.ListLeasesAsync());
        }
    }

    [Fact]
    public async Task A_lease_revoked_after_a_restart_deletes_its_keys_at_one_revision()
    {
        long lease;
        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            lease = await store.GrantLeaseAsync(0, 600);
            await store.TxnAsync(new Transaction([], [new TxnPut("/a", Bytes("1"), Lease: lease), new TxnPut("/b", Bytes("2"), Lease: lease), new TxnPut("/c", Bytes("3"))], []));

            // Written again without the lease, /b leaves it.
            await store.PutAsync("/b", Bytes("mine"));
        }

        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            Assert.Equal([lease], await store.ListLeasesAsync());
            Assert.Equal(["/a"], (await store.GetLeaseAsync(lease))!.Keys);
            long before = await store.GetRevisionAsync();

            await store.RevokeLeaseAsync(lease);

            Assert.Equal(before + 1, await store.GetRevisionAsync());
            Assert.Equal(["/b", "/c"], (await store.RangeAsync("/", new RangeOptions())).Items.Select(kv => kv.Key));
            await ExpectAsync(StorageError.LeaseNotFound, () => store.RevokeLeaseAsync(lease));
        }

        await using (var reopened = SqliteKeyValueStore.Open(StorePath))
        {
            Assert.Empty(await reopened.ListLeasesAsync());
            Assert.Null(await reopened.GetAsync("/a"));
        }
    }

    [Fact]
    public async Task A_store_written_before_leases_and_the_current_index_is_migrated_on_open()
    {
        // The schema as it was: no lease column, no kv_current; a created, b created, a updated, b deleted.
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = StorePath, Pooling = false }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE kv_log (id INTEGER PRIMARY KEY, revision INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                    create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL, expires_at INTEGER);
                CREATE UNIQUE INDEX kv_log_key_revision ON kv_log (key, revision);
                CREATE INDEX kv_log_revision ON kv_log (revision);
                CREATE TABLE kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO kv_meta (name, value) VALUES ('revision', 4), ('compacted', 0);
                INSERT INTO kv_log (revision, key, value, create_revision, prev_revision, version, deleted) VALUES
                    (1, CAST('/a' AS BLOB), CAST('1' AS BLOB), 1, 0, 1, 0),
                    (2, CAST('/b' AS BLOB), CAST('2' AS BLOB), 2, 0, 1, 0),
                    (3, CAST('/a' AS BLOB), CAST('3' AS BLOB), 1, 1, 2, 0),
                    (4, CAST('/b' AS BLOB), CAST('' AS BLOB), 0, 2, 0, 1);
                """;
            command.ExecuteNonQuery();
        }

        await using var store = SqliteKeyValueStore.Open(StorePath);
        Assert.Equal(4, await store.GetRevisionAsync());
        var now = await store.RangeAsync("/", new RangeOptions());
        var a = Assert.Single(now.Items);
        Assert.Equal(("/a", "3", 1L, 3L, 2L, 0L), (a.Key, Text(a.Value), a.CreateRevision, a.ModRevision, a.Version, a.Lease));
        Assert.Null(await store.GetAsync("/b"));
        Assert.Equal(["1", "2"], (await store.RangeAsync("/", new RangeOptions { Revision = 2 })).Items.Select(kv => Text(kv.Value)));

        await store.PutAsync("/c", Bytes("new"));
        await store.DeleteAsync("/a");
        Assert.Equal(["/c"], (await store.RangeAsync("/", new RangeOptions())).Items.Select(kv => kv.Key));
        Assert.Equal(1, await store.CountAsync("/"));
    }

    [Fact]
    public async Task A_store_written_with_the_current_row_table_loses_it_on_open_and_reads_the_same()
    {
        // The schema with kv_current and its triggers: a created, b created, a updated, b deleted, c leased.
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = StorePath, Pooling = false }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE kv_log (id INTEGER PRIMARY KEY, revision INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                    create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL,
                    expires_at INTEGER, lease INTEGER NOT NULL DEFAULT 0);
                CREATE UNIQUE INDEX kv_log_key_revision ON kv_log (key, revision);
                CREATE INDEX kv_log_revision ON kv_log (revision);
                CREATE TABLE kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO kv_meta (name, value) VALUES ('revision', 5), ('compacted', 0);
                CREATE TABLE kv_current (key BLOB PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TRIGGER kv_current_put AFTER INSERT ON kv_log WHEN NEW.deleted = 0 BEGIN
                    INSERT OR REPLACE INTO kv_current (key, id) VALUES (NEW.key, NEW.id);
                END;
                CREATE TRIGGER kv_current_delete AFTER INSERT ON kv_log WHEN NEW.deleted <> 0 BEGIN
                    DELETE FROM kv_current WHERE key = NEW.key;
                END;
                CREATE TABLE kv_lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
                INSERT INTO kv_lease (id, ttl) VALUES (7, 600);
                INSERT INTO kv_log (revision, key, value, create_revision, prev_revision, version, deleted, lease) VALUES
                    (1, CAST('/a' AS BLOB), CAST('1' AS BLOB), 1, 0, 1, 0, 0),
                    (2, CAST('/b' AS BLOB), CAST('2' AS BLOB), 2, 0, 1, 0, 0),
                    (3, CAST('/a' AS BLOB), CAST('3' AS BLOB), 1, 1, 2, 0, 0),
                    (4, CAST('/b' AS BLOB), CAST('' AS BLOB), 0, 2, 0, 1, 0),
                    (5, CAST('/c' AS BLOB), CAST('5' AS BLOB), 5, 0, 1, 0, 7);
                """;
            command.ExecuteNonQuery();
        }

        await using (var store = SqliteKeyValueStore.Open(StorePath))
        {
            Assert.Equal(5, await store.GetRevisionAsync());
            Assert.Equal([("/a", "3", 2L), ("/c", "5", 1L)], (await store.RangeAsync("/", new RangeOptions())).Items.Select(kv => (kv.Key, Text(kv.Value), kv.Version)));
            Assert.Null(await store.GetAsync("/b"));
            Assert.Equal(["/c"], (await store.GetLeaseAsync(7))!.Keys);

            // Writes after the migration append to the log alone, and a range delete finds every live key.
            await store.PutAsync("/b", Bytes("again"));
            var deleted = await store.TxnAsync(new Transaction([], [new TxnDelete("/", KeyInterval.ToEnd)], []));
            Assert.Equal(["/a", "/b", "/c"], Assert.IsType<TxnDeleteResult>(Assert.Single(deleted.Results)).Deleted.Select(kv => kv.Key));
            await store.PutAsync("/d", Bytes("4"));
        }

        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = StorePath, Pooling = false }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'kv_current%'";
            Assert.Equal(0L, command.ExecuteScalar());
        }

        await using var reopened = SqliteKeyValueStore.Open(StorePath);
        Assert.Equal(["/d"], (await reopened.RangeAsync("/", new RangeOptions())).Items.Select(kv => kv.Key));
        Assert.Equal(1, await reopened.CountAsync("/"));
    }

    public void Dispose() => _directory.Dispose();
}
