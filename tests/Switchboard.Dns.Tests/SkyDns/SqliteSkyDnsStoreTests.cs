using Switchboard.Storage;
using Switchboard.Storage.Sqlite;

namespace Switchboard.Dns.Tests.SkyDns;

public sealed class SqliteSkyDnsStoreTests : SkyDnsStoreTests
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sb-skydns-").FullName;

    protected override Task<IKeyValueStore> OpenStoreAsync() => Task.FromResult<IKeyValueStore>(SqliteKeyValueStore.Open(Path.Combine(_dir, "state.db")));

    protected override Task CloseAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }
}
