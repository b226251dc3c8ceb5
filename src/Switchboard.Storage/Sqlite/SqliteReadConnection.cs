using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Switchboard.Storage.Sqlite;

/// <summary>One read connection with its prepared queries; used by one caller at a time.</summary>
internal sealed class SqliteReadConnection : IDisposable
{
    // The live version of each key as of @rev is its row with no newer row at or below @rev.
    private const string VisibleAt = """
        l.key >= $low AND l.key < $high AND l.revision <= $rev AND l.deleted = 0
        AND NOT EXISTS (SELECT 1 FROM kv_log n WHERE n.key = l.key AND n.revision > l.revision AND n.revision <= $rev)
        """;

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _begin;
    private readonly SqliteCommand _end;
    private readonly SqliteCommand _meta;
    private readonly SqliteCommand _get;
    private readonly SqliteCommand _count;
    private readonly SqliteCommand _history;

    // Stepped through SQLite's own API (SqliteRows): its columns are read in place, where the data reader would copy
    // each key and value into an array of its own.
    private readonly sqlite3_stmt _range;

    public SqliteReadConnection(string path)
    {
        _connection = SqliteDatabase.OpenReader(path);
        _begin = SqliteDatabase.Prepare(_connection, "BEGIN DEFERRED");
        _end = SqliteDatabase.Prepare(_connection, "COMMIT");
        _meta = SqliteDatabase.Prepare(_connection, "SELECT (SELECT value FROM kv_meta WHERE name = 'revision'), (SELECT value FROM kv_meta WHERE name = 'compacted')");
        _get = SqliteDatabase.Prepare(
            _connection,
            "SELECT value, create_revision, revision, version, lease, deleted FROM kv_log WHERE key = $key ORDER BY revision DESC LIMIT 1",
            "$key");
        _count = SqliteDatabase.Prepare(_connection, $"SELECT COUNT(*) FROM kv_log l WHERE {VisibleAt}", "$low", "$high", "$rev");
        _history = SqliteDatabase.Prepare(
            _connection,
            """
            SELECT l.key, l.value, l.create_revision, l.revision, l.version, l.lease, l.deleted,
                   p.value, p.create_revision, p.revision, p.version, p.lease,
                   l.id
            FROM kv_log l LEFT JOIN kv_log p ON p.key = l.key AND p.revision = l.prev_revision
            WHERE (l.revision > $after OR (l.revision = $after AND l.id > $after_id)) AND l.key >= $low AND l.key < $high
            ORDER BY l.revision, l.id LIMIT $limit
            """,
            "$after", "$low", "$high", "$limit", "$after_id");
        Check(raw.sqlite3_prepare_v2(
            _connection.Handle,
            $"SELECT l.key, l.value, l.create_revision, l.revision, l.version, l.lease FROM kv_log l WHERE {VisibleAt} ORDER BY l.key",
            out _range));
    }

    /// <summary>Starts a read transaction: every query until <see cref="EndSnapshot"/> sees the same state.</summary>
    public StoreSnapshot BeginSnapshot()
    {
        _begin.ExecuteNonQuery();
        try
        {
            using var reader = _meta.ExecuteReader();
            reader.Read();
            return new StoreSnapshot(reader.GetInt64(0), reader.GetInt64(1));
        }
        catch
        {
            EndSnapshot();
            throw;
        }
    }

    public void EndSnapshot() => _end.ExecuteNonQuery();

    public KeyValue? Get(string key)
    {
        _get.Parameters[0].Value = Encoding.UTF8.GetBytes(key);
        using var reader = _get.ExecuteReader();
        return reader.Read() && reader.GetInt64(5) == 0 ? SqliteDatabase.ReadKeyValue(reader, key, 0) : null;
    }

    /// <summary>
    /// Hands <paramref name="visitor"/> the live keys in the range as of <paramref name="revision"/>, at most
    /// <paramref name="limit"/> (0: all); says how many it visited and whether more keys matched.
    /// </summary>
    public (long Visited, bool More) Range(KeyRange range, long revision, long limit, IRangeVisitor visitor)
    {
        Check(raw.sqlite3_bind_blob(_range, 1, range.Low));
        Check(raw.sqlite3_bind_blob(_range, 2, range.High));
        Check(raw.sqlite3_bind_int64(_range, 3, revision));
        using var rows = SqliteRows.Open(_range);
        try
        {
            long visited = 0;
            while (Step(rows))
            {
                if (visited == limit && limit > 0)
                {
                    return (visited, true);
                }

                visitor.Visit(new KeyValueRow(rows.Blob(0), rows.Blob(1), rows.Int64(2), rows.Int64(3), rows.Int64(4), rows.Int64(5)));
                visited++;
            }

            return (visited, false);
        }
        finally
        {
            raw.sqlite3_reset(_range);
        }
    }

    public long Count(KeyRange range, long revision)
    {
        _count.Parameters[0].Value = range.Low;
        _count.Parameters[1].Value = range.High;
        _count.Parameters[2].Value = revision;
        return (long)_count.ExecuteScalar()!;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> changes in the range after the log position (<paramref name="afterRevision"/>,
    /// <paramref name="afterId"/>), oldest first, and the position of the last one (a revision's changes may span pages).
    /// </summary>
    public (List<WatchEvent> Events, long LastId) History(KeyRange range, long afterRevision, long afterId, int limit)
    {
        _history.Parameters[0].Value = afterRevision;
        _history.Parameters[4].Value = afterId;
        long lastId = afterId;
        _history.Parameters[1].Value = range.Low;
        _history.Parameters[2].Value = range.High;
        _history.Parameters[3].Value = limit;
        var events = new List<WatchEvent>();
        using var reader = _history.ExecuteReader();
        while (reader.Read())
        {
            string key = KeyOf(reader, 0);
            var current = SqliteDatabase.ReadKeyValue(reader, key, 1);
            var previous = reader.IsDBNull(9) ? null : SqliteDatabase.ReadKeyValue(reader, key, 7);
            var type = reader.GetInt64(6) != 0 ? WatchEventType.Deleted
                : previous is null ? WatchEventType.Created
                : WatchEventType.Updated;
            events.Add(new WatchEvent(type, current, previous));
            lastId = reader.GetInt64(12);
        }

        return (events, lastId);
    }

    public void Dispose()
    {
        _range.Dispose();
        foreach (var command in new[] { _begin, _end, _meta, _get, _count, _history })
        {
            command.Dispose();
        }

        _connection.Dispose();
    }

    private static string KeyOf(SqliteDataReader reader, int column) => Encoding.UTF8.GetString((byte[])reader.GetValue(column));

    /// <summary>Whether <paramref name="rows"/> gave a row (false: it is done); a failure is SQLite's error.</summary>
    private bool Step(SqliteRows rows)
    {
        int result = rows.Step();
        if (result == raw.SQLITE_ROW)
        {
            return true;
        }

        if (result != raw.SQLITE_DONE)
        {
            Check(result);
        }

        return false;
    }

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, _connection.Handle);
        }
    }
}
