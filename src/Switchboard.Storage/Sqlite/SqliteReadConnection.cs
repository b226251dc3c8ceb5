using System.Text;
using Microsoft.Data.Sqlite;

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
    private readonly SqliteCommand _range;
    private readonly SqliteCommand _count;
    private readonly SqliteCommand _currentRange;
    private readonly SqliteCommand _currentCount;
    private readonly SqliteCommand _history;

    public SqliteReadConnection(string path)
    {
        _connection = SqliteDatabase.OpenReader(path);
        _begin = SqliteDatabase.Prepare(_connection, "BEGIN DEFERRED");
        _end = SqliteDatabase.Prepare(_connection, "COMMIT");
        _meta = SqliteDatabase.Prepare(_connection, "SELECT (SELECT value FROM kv_meta WHERE name = 'revision'), (SELECT value FROM kv_meta WHERE name = 'compacted')");
        _get = SqliteDatabase.Prepare(
            _connection,
            "SELECT l.value, l.create_revision, l.revision, l.version, l.lease FROM kv_current c CROSS JOIN kv_log l ON l.id = c.id WHERE c.key = $key",
            "$key");
        _range = SqliteDatabase.Prepare(
            _connection,
            $"SELECT l.key, l.value, l.create_revision, l.revision, l.version, l.lease FROM kv_log l WHERE {VisibleAt} ORDER BY l.key LIMIT $limit",
            "$low", "$high", "$rev", "$limit");
        _count = SqliteDatabase.Prepare(_connection, $"SELECT COUNT(*) FROM kv_log l WHERE {VisibleAt}", "$low", "$high", "$rev");

        // At the current revision the live rows are kv_current's: a scan of its key index, each row fetched by id.
        _currentRange = SqliteDatabase.Prepare(
            _connection,
            """
            SELECT c.key, l.value, l.create_revision, l.revision, l.version, l.lease
            FROM kv_current c CROSS JOIN kv_log l ON l.id = c.id
            WHERE c.key >= $low AND c.key < $high ORDER BY c.key LIMIT $limit
            """,
            "$low", "$high", "$limit");
        _currentCount = SqliteDatabase.Prepare(_connection, "SELECT COUNT(*) FROM kv_current WHERE key >= $low AND key < $high", "$low", "$high");
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
        return reader.Read() ? SqliteDatabase.ReadKeyValue(reader, key, 0) : null;
    }

    /// <summary>
    /// The live keys in the range as of <paramref name="revision"/>, at most <paramref name="limit"/> (negative: all);
    /// <paramref name="current"/> when that is the snapshot's own revision.
    /// </summary>
    public List<KeyValue> Range(KeyRange range, long revision, bool current, long limit)
    {
        SqliteCommand query;
        if (current)
        {
            query = _currentRange;
            query.Parameters[0].Value = range.Low;
            query.Parameters[1].Value = range.High;
            query.Parameters[2].Value = limit;
        }
        else
        {
            query = _range;
            SetRange(query, range, revision);
            query.Parameters[3].Value = limit;
        }

        var items = new List<KeyValue>();
        using var reader = query.ExecuteReader();
        while (reader.Read())
        {
            items.Add(SqliteDatabase.ReadKeyValue(reader, KeyOf(reader, 0), 1));
        }

        return items;
    }

    public long Count(KeyRange range, long revision, bool current)
    {
        if (current)
        {
            _currentCount.Parameters[0].Value = range.Low;
            _currentCount.Parameters[1].Value = range.High;
            return (long)_currentCount.ExecuteScalar()!;
        }

        SetRange(_count, range, revision);
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
        foreach (var command in new[] { _begin, _end, _meta, _get, _range, _count, _currentRange, _currentCount, _history })
        {
            command.Dispose();
        }

        _connection.Dispose();
    }

    private static string KeyOf(SqliteDataReader reader, int column) => Encoding.UTF8.GetString((byte[])reader.GetValue(column));

    private static void SetRange(SqliteCommand command, KeyRange range, long revision)
    {
        command.Parameters[0].Value = range.Low;
        command.Parameters[1].Value = range.High;
        command.Parameters[2].Value = revision;
    }
}
