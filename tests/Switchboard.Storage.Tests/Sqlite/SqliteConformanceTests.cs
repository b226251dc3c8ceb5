using Switchboard.Storage.Sqlite;
using Switchboard.Storage.Tests.Conformance;

namespace Switchboard.Storage.Tests.Sqlite;

/// <summary>The shared etcd-semantics suite against the embedded store, one fresh database per test.</summary>
public sealed class SqliteConformanceTests : KeyValueStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IKeyValueStore> OpenStoreAsync() =>
        Task.FromResult<IKeyValueStore>(SqliteKeyValueStore.Open(_directory.StorePath));

    public void Dispose() => _directory.Dispose();
}
