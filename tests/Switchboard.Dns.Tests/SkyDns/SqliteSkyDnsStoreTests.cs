using Switchboard.Storage;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.Dns.Tests.SkyDns;

public sealed class SqliteSkyDnsStoreTests : SkyDnsStoreTests
{
    private readonly TempDirectory _dir = new("sb-skydns-");

    protected override Task<IKeyValueStore> OpenStoreAsync() => Task.FromResult<IKeyValueStore>(SqliteKeyValueStore.Open(_dir.File("state.db")));

    protected override Task CloseAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
