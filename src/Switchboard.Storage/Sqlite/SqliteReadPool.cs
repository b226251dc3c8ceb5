using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Switchboard.Storage.Sqlite;

/// <summary>
/// Read connections, opened on demand and reused, so that reads run in parallel with each other and with
/// the writer loop (WAL readers see the last commit and never block).
/// </summary>
internal sealed class SqliteReadPool : IDisposable
{
    private readonly string _path;
    private readonly ConcurrentBag<SqliteReadConnection> _idle = [];
    private volatile bool _disposed;

    public SqliteReadPool(string path) => _path = path;

    /// <summary>Runs <paramref name="read"/> on a pooled connection; storage faults become <see cref="StorageError.Unavailable"/>.</summary>
    public T Read<T>(Func<SqliteReadConnection, T> read)
    {
        if (_disposed)
        {
            throw new StorageException(StorageError.Unavailable, "the store is closed");
        }

        var connection = Rent();
        try
        {
            return read(connection);
        }
        catch (SqliteException e)
        {
            throw new StorageException(StorageError.Unavailable, $"reading the store failed: {e.Message}", innerException: e);
        }
        finally
        {
            Return(connection);
        }
    }

    /// <summary>Runs <paramref name="read"/> inside one read transaction.</summary>
    public T ReadSnapshot<T>(Func<SqliteReadConnection, StoreSnapshot, T> read) =>
        Read(connection =>
        {
            var snapshot = connection.BeginSnapshot();
            try
            {
                return read(connection, snapshot);
            }
            finally
            {
                connection.EndSnapshot();
            }
        });

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }
    }

    private SqliteReadConnection Rent()
    {
        try
        {
            return _idle.TryTake(out var connection) ? connection : new SqliteReadConnection(_path);
        }
        catch (SqliteException e)
        {
            throw new StorageException(StorageError.Unavailable, $"opening a read connection failed: {e.Message}", innerException: e);
        }
    }

    private void Return(SqliteReadConnection connection)
    {
        if (_disposed)
        {
            connection.Dispose();
            return;
        }

        _idle.Add(connection);
        if (_disposed && _idle.TryTake(out var late))
        {
            late.Dispose();
        }
    }
}
