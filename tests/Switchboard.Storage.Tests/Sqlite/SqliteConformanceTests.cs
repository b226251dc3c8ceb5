using Switchboard.Storage.Sqlite;
using Switchboard.Storage.Tests.Conformance;
using Switchboard.Testing;

namespace Switchboard.Storage.Tests.Sqlite;

/// <summary>The shared etcd-semantics suite against the embedded store, one fresh database per test.</summary>
public sealed class SqliteConformanceTests : KeyValueStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _directory = new("switchboard-sqlite-");

    private string StorePath => _directory.File("store.db");

    protected override Task<IKeyValueStore> OpenStoreAsync() =>
        Task.FromResult<IKeyValueStore>(SqliteKeyValueStore.Open(StorePath));

    public void Dispose() => _directory.Dispose();
}
