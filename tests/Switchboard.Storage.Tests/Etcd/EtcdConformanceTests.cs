using Switchboard.Storage.Tests.Conformance;
using Switchboard.Testing;

namespace Switchboard.Storage.Tests.Etcd;

/// <summary>The shared conformance suite on a real etcd member.</summary>
public sealed class EtcdConformanceTests(EtcdCluster etcd) : KeyValueStoreConformanceTests, IClassFixture<EtcdCluster>
{
    protected override Task<IKeyValueStore> OpenStoreAsync() => Task.FromResult<IKeyValueStore>(etcd.OpenStore());
}
