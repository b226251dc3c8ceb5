using Switchboard.Storage;
using Switchboard.Storage.Sqlite;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>The API server on the embedded SQLite store in its data dir.</summary>
public class SqliteApiServer : ApiServerFixture
{
    protected override Task<IKeyValueStore> OpenStoreAsync(string dataDirectory) =>
        Task.FromResult<IKeyValueStore>(SqliteKeyValueStore.Open(Path.Combine(dataDirectory, "state.db")));
}
