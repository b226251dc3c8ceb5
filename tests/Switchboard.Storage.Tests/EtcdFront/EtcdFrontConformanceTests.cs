using Switchboard.Storage.Tests.Conformance;

namespace Switchboard.Storage.Tests.EtcdFront;

/// <summary>The shared conformance suite through the project's etcd client, the etcd v3 front and the SQLite store behind it.</summary>
public sealed class EtcdFrontConformanceTests(EtcdFrontFixture front) : KeyValueStoreConformanceTests, IClassFixture<EtcdFrontFixture>
{
    protected override Task<IKeyValueStore> OpenStoreAsync() => Task.FromResult<IKeyValueStore>(front.OpenClient());
}
