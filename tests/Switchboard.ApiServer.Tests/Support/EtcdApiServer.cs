using Switchboard.Storage;
using Switchboard.Storage.Etcd;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Support;

/// <summary>The API server on a real single-member etcd (the storage tests' <see cref="EtcdCluster"/>).</summary>
public sealed class EtcdApiServer : ApiServerFixture
{
    private readonly EtcdCluster _etcd = new();

    public override async Task InitializeAsync()
    {
        await _etcd.InitializeAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            await _etcd.DisposeAsync();
        }
    }

    protected override Task<IKeyValueStore> OpenStoreAsync(string dataDirectory) =>
        Task.FromResult<IKeyValueStore>(_etcd.OpenStore(new EtcdStoreOptions { CompactionInterval = null }));
}
