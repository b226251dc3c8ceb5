using System.Runtime.InteropServices;
using SQLitePCL;

namespace Switchboard.Storage.Sqlite;

/// <summary>
/// Steps a prepared statement and reads its columns in place, by SQLite's own functions on the statement's pointer:
/// through SQLitePCL each call takes and releases the statement's SafeHandle (two interlocked operations), a dozen
/// times per row of a range. The caller holds one reference for the whole walk (<see cref="Open"/>, <see cref="Dispose"/>).
/// </summary>
internal readonly unsafe partial struct SqliteRows : IDisposable
{
    // The library SQLitePCL's provider binds (SQLitePCLRaw.provider.e_sqlite3), already loaded by the connection.
    private const string Library = "e_sqlite3";

    private readonly sqlite3_stmt _statement;
    private readonly nint _handle;

    private SqliteRows(sqlite3_stmt statement, nint handle)
    {
        _statement = statement;
        _handle = handle;
    }

    /// <summary>Holds <paramref name="statement"/> open until <see cref="Dispose"/>.</summary>
    public static SqliteRows Open(sqlite3_stmt statement)
    {
        bool added = false;
        statement.DangerousAddRef(ref added);
        return new SqliteRows(statement, statement.DangerousGetHandle());
    }

    /// <summary>sqlite3_step: SQLITE_ROW, SQLITE_DONE or an error code.</summary>
    public int Step() => StepNative(_handle);

    public ReadOnlySpan<byte> Blob(int column)
    {
        // sqlite3_column_blob first: it may convert the value, and the size is the converted one's.
        byte* data = BlobNative(_handle, column);
        return new ReadOnlySpan<byte>(data, BytesNative(_handle, column));
    }

    public long Int64(int column) => Int64Native(_handle, column);

    public void Dispose() => _statement.DangerousRelease();

    [LibraryImport(Library, EntryPoint = "sqlite3_step")]
    private static partial int StepNative(nint statement);

    [LibraryImport(Library, EntryPoint = "sqlite3_column_blob")]
    private static partial byte* BlobNative(nint statement, int column);

    [LibraryImport(Library, EntryPoint = "sqlite3_column_bytes")]
    private static partial int BytesNative(nint statement, int column);

    [LibraryImport(Library, EntryPoint = "sqlite3_column_int64")]
    private static partial long Int64Native(nint statement, int column);
}
