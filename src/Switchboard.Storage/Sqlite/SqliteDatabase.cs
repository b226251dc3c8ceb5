using Microsoft.Data.Sqlite;

namespace Switchboard.Storage.Sqlite;

/// <summary>
/// The schema and connection settings. Like k3s's kine, every write is a row of one log table keyed by its
/// revision, so a read at an old revision and a watch replay are queries over that log; a deletion is a
/// tombstone row. kv_meta holds the current and the compacted revision; kv_lease holds the granted leases (a row's
/// lease column says which one the key is attached to). A read at the current revision is the same query over the log as
/// one at a past revision: a table of each key's newest row, kept by triggers in the appending transaction, cost every
/// commit a page more to write and fsync (5.7 WAL pages a commit against 4.8 at one writer; puts at one client 23 %
/// slower) and saved a range of 10,000 keys about 5 ms of SQLite's time.
/// </summary>
internal static class SqliteDatabase
{
    public const string RevisionName = "revision";
    public const string CompactedName = "compacted";

    // A row per key written: a transaction writes several keys at one revision, so rows are ordered by revision, then id.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS kv_log (
            id INTEGER PRIMARY KEY,
            revision INTEGER NOT NULL,
            key BLOB NOT NULL,
            value BLOB NOT NULL,
            create_revision INTEGER NOT NULL,
            prev_revision INTEGER NOT NULL,
            version INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            expires_at INTEGER,
            lease INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX IF NOT EXISTS kv_log_key_revision ON kv_log (key, revision);
        CREATE INDEX IF NOT EXISTS kv_log_revision ON kv_log (revision);
        CREATE TABLE IF NOT EXISTS kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO kv_meta (name, value) VALUES ('revision', 0), ('compacted', 0);
        CREATE TABLE IF NOT EXISTS kv_lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
        """;

    /// <summary>
    /// Takes the store's lock file: the in-memory index of live keys is only right if this process is the
    /// file's one writer. The operating system drops the lock when the process dies.
    /// </summary>
    public static FileStream Lock(string path)
    {
        try
        {
            return PrivateFiles.OpenOrCreate(path + ".lock", FileShare.None);
        }
        catch (IOException e)
        {
            throw new StorageException(StorageError.Unavailable, $"the store {path} is open in another process or store instance", innerException: e);
        }
    }

    /// <summary>Opens the connection the writer loop owns, creating the database if needed.</summary>
    public static SqliteConnection OpenWriter(string path)
    {
        var connection = Open(path, SqliteOpenMode.ReadWriteCreate);
        try
        {
            // WAL with synchronous=FULL fsyncs the log on every commit: a commit that returned survives kill -9
            // and power loss; a torn tail of the log is discarded on the next open. The writer only appends (compare-
            // and-swap reads the in-memory index), so its page cache holds little it reads again: SQLite's default
            // 2 MiB, not 32 MiB that filled with appended pages and stayed in the process's RSS.
            Execute(connection, "PRAGMA journal_mode=WAL;");
            Execute(connection, "PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;");
            MigrateRevisionKeyedLog(connection);
            MigrateLeaseColumn(connection);
            DropCurrentIndex(connection);
            Execute(connection, Schema);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens a connection for reads only; in WAL mode it never waits for the writer.</summary>
    public static SqliteConnection OpenReader(string path)
    {
        var connection = Open(path, SqliteOpenMode.ReadWrite);
        // SQLite's default 2 MiB page cache per connection: pages read again come from the kernel's page cache.
        Execute(connection, "PRAGMA query_only=1;");
        return connection;
    }

    public static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (string name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    /// <summary>A key from the columns value, create_revision, revision, version and lease from <paramref name="firstColumn"/> on.</summary>
    public static KeyValue ReadKeyValue(SqliteDataReader reader, string key, int firstColumn) =>
        new(key, (byte[])reader.GetValue(firstColumn), reader.GetInt64(firstColumn + 1), reader.GetInt64(firstColumn + 2), reader.GetInt64(firstColumn + 3), reader.GetInt64(firstColumn + 4));

    /// <summary>
    /// A store written before transactions keyed its log by revision (one row each); its rows move, ids taken from
    /// their revisions, into the table keyed by id, in one transaction.
    /// </summary>
    private static void MigrateRevisionKeyedLog(SqliteConnection connection)
    {
        using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE name = 'kv_log'), (SELECT COUNT(*) FROM pragma_table_info('kv_log') WHERE name = 'id')";
        using (var reader = probe.ExecuteReader())
        {
            reader.Read();
            if (reader.GetInt64(0) == 0 || reader.GetInt64(1) != 0)
            {
                return;
            }
        }

        Execute(connection, "BEGIN IMMEDIATE; DROP INDEX IF EXISTS kv_log_key_revision; ALTER TABLE kv_log RENAME TO kv_log_by_revision;");
        Execute(connection, Schema);
        Execute(
            connection,
            """
            INSERT INTO kv_log (id, revision, key, value, create_revision, prev_revision, version, deleted, expires_at)
            SELECT revision, revision, key, value, create_revision, prev_revision, version, deleted, expires_at FROM kv_log_by_revision ORDER BY revision;
            DROP TABLE kv_log_by_revision;
            COMMIT;
            """);
    }

    /// <summary>A store written before leases gets the lease column, every key unattached.</summary>
    private static void MigrateLeaseColumn(SqliteConnection connection)
    {
        if (Exists(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'kv_log'")
            && !Exists(connection, "SELECT COUNT(*) FROM pragma_table_info('kv_log') WHERE name = 'lease'"))
        {
            Execute(connection, "ALTER TABLE kv_log ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;");
        }
    }

    /// <summary>A store written with the current-row table (kv_current and its triggers) loses them, in one transaction.</summary>
    private static void DropCurrentIndex(SqliteConnection connection)
    {
        if (Exists(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'kv_current'"))
        {
            Execute(connection, "BEGIN IMMEDIATE; DROP TRIGGER IF EXISTS kv_current_put; DROP TRIGGER IF EXISTS kv_current_delete; DROP TABLE kv_current; COMMIT;");
        }
    }

    private static bool Exists(SqliteConnection connection, string countQuery)
    {
        using var probe = connection.CreateCommand();
        probe.CommandText = countQuery;
        return (long)probe.ExecuteScalar()! != 0;
    }

    private static SqliteConnection Open(string path, SqliteOpenMode mode)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
